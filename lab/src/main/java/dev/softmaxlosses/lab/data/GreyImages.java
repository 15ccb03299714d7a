package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;

/**
 * Turns image files into the rows the networks read: decoded with the JDK's image readers (PNG, JPEG,
 * BMP, GIF) or as PGM, made grey, resized to {@code size x size} by area averaging, scaled to
 * {@code [0, 1]} and, with {@code invert}, turned into light strokes on black ({@code 1 - v}), as
 * MNIST is drawn. Every image of a data set goes through the same preprocessing, and a saved model
 * keeps it, so the images it meets later are read the same way.
 *
 * @param size   the side of the square every image is resized to, in pixels
 * @param invert whether grey values become {@code 1 - v} (dark strokes on light paper, Omniglot's, become
 *               light strokes on black)
 */
public record GreyImages(int size, boolean invert) {

    /** The largest side {@code --image-size} takes: a row of a data set is {@code size * size} floats. */
    public static final int MAX_SIZE = 1024;

    /** The most pixels an image file may decode to; a larger one is refused from its header, before decoding. */
    public static final long MAX_PIXELS = PgmImage.MAX_PIXELS;

    /** The file name endings read as images, lower case. */
    public static final String[] SUFFIXES = {".png", ".jpg", ".jpeg", ".pgm", ".bmp", ".gif"};

    public GreyImages {
        checkSize(size);
    }

    /** Checks a value of {@code --image-size}: a side in {@code [1, MAX_SIZE]}. */
    public static void checkSize(int size) {
        if (size < 1 || size > MAX_SIZE) {
            throw new BadInputException("--image-size must lie in [1, " + MAX_SIZE + "], got " + size);
        }
    }

    /** Whether {@code fileName} ends in one of {@link #SUFFIXES} (in any case). */
    public static boolean isImageName(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        for (String s : SUFFIXES) {
            if (lower.endsWith(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The preprocessed row ({@code size * size} values in {@code [0, 1]}, row-major) of the image file
     * {@code bytes}; {@code name} is what an error message calls it.
     *
     * @throws BadInputException when the bytes are no image the readers know, or an image too large
     */
    public float[] row(byte[] bytes, String name) {
        Grey grey = decode(bytes, name);
        float[] row = resize(grey.values, grey.width, grey.height, size);
        if (invert) {
            for (int i = 0; i < row.length; i++) {
                row[i] = 1f - row[i];
            }
        }
        return row;
    }

    /** A decoded image: {@code height x width} grey values in {@code [0, 1]}, 0 black. */
    record Grey(int width, int height, float[] values) {}

    static Grey decode(byte[] bytes, String name) {
        if (name.toLowerCase(Locale.ROOT).endsWith(".pgm") || (bytes.length > 1 && bytes[0] == 'P'
                && (bytes[1] == '5' || bytes[1] == '2'))) {
            PgmImage pgm = PgmImage.parse(bytes, name);
            float[] v = new float[pgm.pixels().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = pgm.pixels()[i] / (float) pgm.maxGrey();
            }
            return new Grey(pgm.width(), pgm.height(), v);
        }
        BufferedImage image;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadInputException("image " + Messages.oneLine(name) + " is not a PNG, JPEG, PGM, BMP or GIF image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new BadInputException("image " + Messages.oneLine(name) + " is " + reader.getWidth(0) + "x"
                            + reader.getHeight(0) + " pixels, more than the " + MAX_PIXELS + " an image may have");
                }
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadInputException bad) {
                throw bad;
            }
            throw new BadInputException("image " + Messages.oneLine(name) + " is corrupt: " + Messages.oneLine(
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
        if (image == null || image.getWidth() < 1 || image.getHeight() < 1) {
            throw new BadInputException("image " + Messages.oneLine(name) + " holds no picture");
        }
        return new Grey(image.getWidth(), image.getHeight(), greys(image));
    }

    /**
     * Grey values by ITU-R BT.601 luma ({@code 0.299 R + 0.587 G + 0.114 B}, as PIL's {@code convert("L")});
     * a grey raster is read as stored (its {@code getRGB} would pass through a colour-space conversion and
     * change the values); alpha is ignored.
     */
    private static float[] greys(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        float[] v = new float[w * h];
        Raster raster = image.getRaster();
        if (image.getColorModel() instanceof IndexColorModel palette) {
            int[] index = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < v.length; i++) {
                v[i] = luma(palette.getRGB(index[i]));
            }
        } else if (raster.getNumBands() <= 2 && image.getColorModel().getNumColorComponents() == 1) {
            int bits = image.getColorModel().getComponentSize(0);
            float max = (float) ((1L << bits) - 1);
            int[] grey = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < v.length; i++) {
                v[i] = grey[i] / max;
            }
        } else {
            int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < v.length; i++) {
                v[i] = luma(rgb[i]);
            }
        }
        return v;
    }

    private static float luma(int rgb) {
        return (0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff)) / 255f;
    }

    /**
     * Resizes {@code width x height} values to {@code size x size} by area averaging: each output pixel
     * is the mean of the input over the rectangle it covers, partly covered pixels weighted by the share
     * they cover (as OpenCV's {@code INTER_AREA} and PIL's box filter for shrinking; enlarging repeats
     * pixels). A non-square image is stretched, as {@code torchvision.transforms.Resize((s, s))} does.
     */
    static float[] resize(float[] values, int width, int height, int size) {
        if (width == size && height == size) {
            return values.clone();
        }
        float[] rows = new float[height * size];
        for (int y = 0; y < height; y++) {
            average(values, y * width, 1, width, rows, y * size, 1, size);
        }
        float[] out = new float[size * size];
        for (int x = 0; x < size; x++) {
            average(rows, x, size, height, out, x, size, size);
        }
        return out;
    }

    /** One line of {@code n} values (stride {@code step}) area-averaged into {@code m} (stride {@code outStep}). */
    private static void average(float[] in, int from, int step, int n, float[] out, int to, int outStep, int m) {
        double scale = (double) n / m;
        for (int j = 0; j < m; j++) {
            double lo = j * scale;
            double hi = (j + 1) * scale;
            int first = (int) Math.floor(lo);
            int last = Math.min(n - 1, (int) Math.ceil(hi) - 1);
            double sum = 0;
            for (int i = first; i <= last; i++) {
                double cover = Math.min(hi, i + 1) - Math.max(lo, i);
                sum += cover * in[from + i * step];
            }
            out[to + j * outStep] = (float) (sum / scale);
        }
    }
}
