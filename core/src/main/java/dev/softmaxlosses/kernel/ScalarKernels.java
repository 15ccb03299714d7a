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

    /**
     * The coefficients of {@code r^2 .. r^6} in the polynomial {@code exp(r) ~ 1 + r + c2 r^2 + ... + c6 r^6}
     * on {@code |r| <= ln(2)/2}, fitted for the least maximum relative error (3e-9, far below float's
     * 6e-8), so that the whole exponential stays within 0.9 ulp with one multiply-add fewer than
     * Cephes' degree-7 expf. Public for the SIMD twin, which must use the same ones.
     */
    public static final float EXP_C2 = 0.49999994f;
    public static final float EXP_C3 = 0.16666521f;
    public static final float EXP_C4 = 0.04166839f;
    public static final float EXP_C5 = 0.00836871f;
    public static final float EXP_C6 = 0.0013814613f;

    /**
     * {@code exp(x)} for {@code x <= 88} by the polynomial the SIMD twin uses: {@code x = n ln 2 + r}
     * (Cody and Waite's two-step reduction), {@link #EXP_C2 the polynomial} in {@code r}, then
     * {@code 2^n} through the exponent bits; within 0.9 ulp, several times faster than
     * {@code Math.exp}, and exact operations only (fma included), so the same bits however the code
     * runs: for the same argument, the same bits as a lane of the SIMD twin's exponential. At or
     * below -88 (and for {@code -Infinity}) it is 0.
     */
    public static float exp(float x) {
        if (!(x > -88f)) {
            return 0f;
        }
        float t = Math.fma(x, 1.44269504088896341f, 12582912f + 127f);
        float n = t - (12582912f + 127f);
        float r = Math.fma(n, -0.693359375f, x);
        r = Math.fma(n, 2.12194440e-4f, r);
        float p = Math.fma(r, EXP_C6, EXP_C5);
        p = Math.fma(p, r, EXP_C4);
        p = Math.fma(p, r, EXP_C3);
        p = Math.fma(p, r, EXP_C2);
        p = Math.fma(p, r, 1f);
        float y = Math.fma(p, r, 1f);
        return y * Float.intBitsToFloat(Float.floatToRawIntBits(t) << 23);
    }

    @Override
    public double expSum(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        double sum = 0;
        for (int i = 0; i < len; i++) {
            float e = exp(Math.fma(a[off + i], scale, -shift));
            if (dst != null) {
                dst[dstOff + i] = e;
            }
            sum += e;
        }
        return sum;
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
