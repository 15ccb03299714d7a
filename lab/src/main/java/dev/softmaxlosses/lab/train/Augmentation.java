package dev.softmaxlosses.lab.train;

import java.util.Locale;
import java.util.Random;

/**
 * What training does to each image of a batch before the network sees it: nothing, or a small random
 * affine distortion, drawn anew each time a sample is used.
 *
 * <p>{@link #AFFINE} is the distortion of the Siamese one-shot paper (Koch, Zemel and Salakhutdinov,
 * "Siamese Neural Networks for One-shot Image Recognition", ICML 2015 deep learning workshop, section
 * 4.4): the map {@code T = R(theta) Sh(rho_x, rho_y) S(s_x, s_y)} plus a translation {@code (t_x, t_y)}
 * about the image's centre, with {@code theta} in [-10, 10] degrees, {@code rho} in [-0.3, 0.3], {@code s}
 * in [0.8, 1.2] and {@code t} in [-2, 2] pixels of the paper's 105-pixel images (here a share of the side,
 * 2/105, so the distortion looks the same at any {@code --image-size}); each of the seven is drawn
 * (uniformly) with probability 1/2 and otherwise left at identity. Pixels are read by bilinear
 * interpolation; those that fall outside the image take the mean of its border pixels, the paper's
 * background whether the strokes are dark or light.
 */
public enum Augmentation {
    /** The images as they are. */
    NONE,
    /** Koch et al.'s small random affine distortions. */
    AFFINE;

    static final double MAX_ROTATION_DEGREES = 10;
    static final double MAX_SHEAR = 0.3;
    static final double MAX_SCALE_CHANGE = 0.2;
    static final double MAX_SHIFT_SHARE = 2.0 / 105;

    /** The option's value: {@code none} or {@code affine}. */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Distorts each of the {@code n} images of {@code x} ({@code n x height x width}, row-major) in place,
     * drawing from {@code random}; does nothing for {@link #NONE} (and draws nothing).
     */
    public void apply(float[] x, int n, int width, int height, Random random) {
        if (this == NONE) {
            return;
        }
        int dim = width * height;
        float[] source = new float[dim];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, i * dim, source, 0, dim);
            double theta = Math.toRadians(draw(random, MAX_ROTATION_DEGREES));
            double shearX = draw(random, MAX_SHEAR);
            double shearY = draw(random, MAX_SHEAR);
            double scaleX = 1 + draw(random, MAX_SCALE_CHANGE);
            double scaleY = 1 + draw(random, MAX_SCALE_CHANGE);
            double shiftX = draw(random, MAX_SHIFT_SHARE) * width;
            double shiftY = draw(random, MAX_SHIFT_SHARE) * height;
            transform(source, x, i * dim, width, height, theta, shearX, shearY, scaleX, scaleY, shiftX, shiftY);
        }
    }

    /** A value uniform in [-max, max] with probability 1/2, else 0. */
    private static double draw(Random random, double max) {
        return random.nextBoolean() ? (2 * random.nextDouble() - 1) * max : 0;
    }

    /**
     * Writes {@code in} ({@code height x width}) moved by {@code T = R(theta) Sh(shearX, shearY) S(scaleX, scaleY)}
     * about its centre and then by {@code (shiftX, shiftY)} pixels into {@code out} at {@code offset}.
     */
    static void transform(float[] in, float[] out, int offset, int width, int height, double theta, double shearX,
                          double shearY, double scaleX, double scaleY, double shiftX, double shiftY) {
        double cos = Math.cos(theta);
        double sin = Math.sin(theta);
        double a = scaleX * (cos - sin * shearY);
        double b = scaleY * (cos * shearX - sin);
        double c = scaleX * (sin + cos * shearY);
        double d = scaleY * (sin * shearX + cos);
        double det = a * d - b * c;
        // Each output pixel reads the input at T^-1 of its place.
        double ia = d / det;
        double ib = -b / det;
        double ic = -c / det;
        double id = a / det;
        float fill = borderMean(in, width, height);
        double cx = (width - 1) / 2.0;
        double cy = (height - 1) / 2.0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double px = x - cx - shiftX;
                double py = y - cy - shiftY;
                double sx = ia * px + ib * py + cx;
                double sy = ic * px + id * py + cy;
                out[offset + y * width + x] = bilinear(in, width, height, sx, sy, fill);
            }
        }
    }

    private static float bilinear(float[] in, int width, int height, double x, double y, float fill) {
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        double fx = x - x0;
        double fy = y - y0;
        double top = (1 - fx) * pixel(in, width, height, x0, y0, fill) + fx * pixel(in, width, height, x0 + 1, y0, fill);
        double bottom = (1 - fx) * pixel(in, width, height, x0, y0 + 1, fill)
                + fx * pixel(in, width, height, x0 + 1, y0 + 1, fill);
        return (float) ((1 - fy) * top + fy * bottom);
    }

    private static float pixel(float[] in, int width, int height, int x, int y, float fill) {
        return x < 0 || y < 0 || x >= width || y >= height ? fill : in[y * width + x];
    }

    private static float borderMean(float[] in, int width, int height) {
        double sum = 0;
        int count = 0;
        for (int x = 0; x < width; x++) {
            sum += in[x] + in[(height - 1) * width + x];
            count += 2;
        }
        for (int y = 1; y < height - 1; y++) {
            sum += in[y * width] + in[y * width + width - 1];
            count += 2;
        }
        return (float) (sum / count);
    }
}
