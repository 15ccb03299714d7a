package dev.softmaxlosses.kernel;

/** The plain-Java kernels: the reference twin, and the fallback where the Vector API is absent. */
public final class ScalarKernels implements KernelSupport {

    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {}

    @Override
    public String description() {
        return "scalar";
    }

    @Override
    public float max(float[] a, int off, int len) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = off, end = off + len; i < end; i++) {
            m = Math.max(m, a[i]);
        }
        return m;
    }

    @Override
    public int indexOfNaNOrPositiveInfinity(float[] a, int off, int len) {
        for (int i = 0; i < len; i++) {
            float v = a[off + i];
            if (v != v || v == Float.POSITIVE_INFINITY) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public double expSum(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        double sum = 0;
        for (int i = 0; i < len; i++) {
            float e = (float) Math.exp(a[off + i] * scale - shift);
            if (dst != null) {
                dst[dstOff + i] = e;
            }
            sum += e;
        }
        return sum;
    }

    @Override
    public void addScaledExp(float[] a, int off, int len, float scale, float shift, float coef, float[] dst, int dstOff) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] += coef * (float) Math.exp(a[off + i] * scale - shift);
        }
    }

    @Override
    public double hingeSum(float[] z, int off, int len, float pivot, float margin, float[] active, int activeOff) {
        double sum = 0;
        for (int i = 0; i < len; i++) {
            float term = (z[off + i] - pivot) + margin;
            boolean on = term > 0;
            active[activeOff + i] = on ? 1f : 0f;
            if (on) {
                sum += term;
            }
        }
        return sum;
    }

    @Override
    public void scaleAddInPlace(float[] a, int off, int len, float alpha, float beta) {
        for (int i = off, end = off + len; i < end; i++) {
            a[i] = a[i] * alpha + beta;
        }
    }

    @Override
    public void scaleAddScaledInPlace(float[] a, int off, int len, float alpha, float[] w, int wOff, float beta) {
        for (int i = 0; i < len; i++) {
            a[off + i] = a[off + i] * alpha + w[wOff + i] * beta;
        }
    }

    @Override
    public void scaleShift(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale, float shift) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = src[srcOff + i] * scale + shift;
        }
    }

    @Override
    public double sum(float[] a, int off, int len) {
        double s = 0;
        for (int i = off, end = off + len; i < end; i++) {
            s += a[i];
        }
        return s;
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) {
            s += (double) a[aOff + i] * b[bOff + i];
        }
        return s;
    }
}
