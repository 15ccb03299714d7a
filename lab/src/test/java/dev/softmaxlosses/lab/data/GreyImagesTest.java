package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image files to rows: the decoders, grey values, area-average resizing and inversion. */
class GreyImagesTest {

    private static final float EXACT = 1e-6f;

    // ---------------------------------------------------------------- area averaging

    @Test
    void shrinkingByTwoAveragesEachTwoByTwoBlock() {
        float[] v = new float[16];
        for (int i = 0; i < 16; i++) {
            v[i] = i;
        }
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, GreyImages.resize(v, 4, 4, 2), EXACT);
    }

    @Test
    void shrinkingThreeToTwoWeighsTheMiddlePixelByTheHalfEachSideCovers() {
        // each output pixel covers 1.5 input pixels: the first whole, half the second; weights (1, 1/2) / 1.5 per axis
        float[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertArrayEquals(new float[] {7f / 3, 11f / 3, 19f / 3, 23f / 3}, GreyImages.resize(v, 3, 3, 2), 1e-5f);
        float[] one = {0, 0, 0, 0, 9, 0, 0, 0, 0};
        // the centre pixel is a quarter inside each output pixel: 9 * (1/2 * 1/2) / (1.5 * 1.5) = 1
        assertArrayEquals(new float[] {1, 1, 1, 1}, GreyImages.resize(one, 3, 3, 2), 1e-6f);
    }

    @Test
    void enlargingRepeatsPixelsAndSharesTheBoundaries() {
        float[] v = {0, 1, 2, 3};
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, GreyImages.resize(v, 2, 2, 4), EXACT);
        // 2 -> 3: the middle output pixel covers a third of each input pixel's two-thirds: their mean
        assertArrayEquals(new float[] {0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}, GreyImages.resize(v, 2, 2, 3), EXACT);
    }

    @Test
    void aNonSquareImageIsStretchedAndTheSameSizeIsACopy() {
        float[] v = {0, 1, 2, 3, 4, 5, 6, 7};
        assertArrayEquals(new float[] {0.5f, 2.5f, 4.5f, 6.5f}, GreyImages.resize(v, 4, 2, 2), EXACT);
        float[] same = {0.25f, 0.5f, 0.75f, 1};
        float[] copy = GreyImages.resize(same, 2, 2, 2);
        assertArrayEquals(same, copy, 0f);
        copy[0] = 9;
        assertEquals(0.25f, same[0], "a copy, not the caller's array");
    }

    @Test
    void keepsTheMeanWhenShrinkingByAnyFactor() {
        java.util.Random random = new java.util.Random(7);
        for (int n : new int[] {5, 7, 13, 28, 105}) {
            float[] v = new float[n * n];
            double sum = 0;
            for (int i = 0; i < v.length; i++) {
                v[i] = random.nextFloat();
                sum += v[i];
            }
            for (int size : new int[] {1, 2, 3, 4}) {
                float[] out = GreyImages.resize(v, n, n, size);
                double mean = 0;
                for (float o : out) {
                    mean += o;
                }
                assertEquals(sum / v.length, mean / out.length, 1e-5, n + " -> " + size);
            }
        }
    }

    // ---------------------------------------------------------------- formats

    @Test
    void eightBitGreyPngIsReadAsStoredAndInverted() {
        byte[] png = ImageFiles.png(ImageFiles.grey(2, 2, 0, 51, 102, 255));
        assertArrayEquals(new float[] {0, 51 / 255f, 102 / 255f, 1}, new GreyImages(2, false).row(png, "a.png"), 0f);
        assertArrayEquals(new float[] {1, 1 - 51 / 255f, 1 - 102 / 255f, 0}, new GreyImages(2, true).row(png, "a.png"), 0f);
        // resized, then inverted: the mean of the four is 102/255
        assertArrayEquals(new float[] {1 - 102 / 255f}, new GreyImages(1, true).row(png, "a.png"), EXACT);
    }

    @Test
    void sixteenBitGreyPngKeepsItsPrecision() {
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_USHORT_GRAY);
        image.getRaster().setPixels(0, 0, 2, 2, new int[] {0, 1000, 40000, 65535});
        float[] row = new GreyImages(2, false).row(ImageFiles.png(image), "deep.png");
        assertArrayEquals(new float[] {0, 1000 / 65535f, 40000 / 65535f, 1}, row, 0f);
    }

    @Test
    void oneBitAndPalettePngsAreReadThroughTheirColours() {
        BufferedImage binary = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_BINARY);
        binary.getRaster().setPixels(0, 0, 2, 2, new int[] {0, 1, 1, 0});
        assertArrayEquals(new float[] {0, 1, 1, 0}, new GreyImages(2, false).row(ImageFiles.png(binary), "bits.png"), EXACT);

        IndexColorModel palette = new IndexColorModel(8, 3, new byte[] {(byte) 255, 0, 0}, new byte[] {0, 0, (byte) 255},
                new byte[] {0, (byte) 255, 0});
        BufferedImage indexed = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
        indexed.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 1, 2});
        float[] row = new GreyImages(3, false).row(ImageFiles.png(indexed), "palette.png");
        // pure red, blue and green by their luma weights 0.299, 0.114, 0.587; the one row stretched to three
        float[] luma = {0.299f, 0.114f, 0.587f};
        assertArrayEquals(new float[] {luma[0], luma[1], luma[2], luma[0], luma[1], luma[2], luma[0], luma[1], luma[2]},
                row, 1e-5f);
    }

    @Test
    void rgbJpegBecomesItsLuma() {
        BufferedImage rgb = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                rgb.setRGB(x, y, (200 << 16) | (100 << 8) | 50);
            }
        }
        float[] row = new GreyImages(4, false).row(ImageFiles.encode(rgb, "jpeg"), "photo.jpg");
        float luma = (0.299f * 200 + 0.587f * 100 + 0.114f * 50) / 255f;
        for (float v : row) {
            assertEquals(luma, v, 0.02f, "a flat colour survives JPEG nearly unchanged");
        }
    }

    @Test
    void bmpGifAndPgmAreReadToo() {
        float[] expected = ImageFiles.patternValues(5, 5, 3);
        GreyImages same = new GreyImages(5, false);
        assertArrayEquals(expected, same.row(ImageFiles.encode(ImageFiles.pattern(5, 5, 3), "bmp"), "a.bmp"), EXACT);
        assertArrayEquals(expected, same.row(ImageFiles.encode(ImageFiles.pattern(5, 5, 3), "gif"), "a.gif"), EXACT);
        int[] pixels = new int[25];
        for (int i = 0; i < 25; i++) {
            pixels[i] = 10 * i;
        }
        float[] pgm = same.row(new PgmImage(5, 5, 1000, pixels).toBytes(), "a.pgm");
        for (int i = 0; i < 25; i++) {
            assertEquals(pixels[i] / 1000f, pgm[i], 0f);
        }
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void refusesWhatIsNoImage() {
        byte[] noise = new byte[300];
        new java.util.Random(1).nextBytes(noise);
        noise[0] = 1;
        BadInputException e = assertThrows(BadInputException.class, () -> new GreyImages(4, false).row(noise, "c/x.png"));
        assertTrue(e.getMessage().contains("image c/x.png is not a PNG, JPEG, PGM, BMP or GIF image"), e.getMessage());
    }

    @Test
    void refusesATruncatedImageNamingIt() {
        byte[] png = ImageFiles.png(ImageFiles.pattern(40, 40, 1));
        byte[] cut = Arrays.copyOf(png, png.length / 2);
        BadInputException e = assertThrows(BadInputException.class, () -> new GreyImages(4, false).row(cut, "a.zip!/c/cut.png"));
        assertTrue(e.getMessage().startsWith("image a.zip!/c/cut.png is corrupt"), e.getMessage());
        byte[] pgm = Arrays.copyOf(new PgmImage(4, 4, 255, new int[16]).toBytes(), 12);
        e = assertThrows(BadInputException.class, () -> new GreyImages(4, false).row(pgm, "c/cut.pgm"));
        assertTrue(e.getMessage().contains("c/cut.pgm is truncated"), e.getMessage());
    }

    @Test
    void refusesAHugeImageFromItsHeaderBeforeDecoding() {
        byte[] png = ImageFiles.png(ImageFiles.pattern(4, 4, 1));
        // IHDR: length (4 bytes) at 8, type at 12, width at 16, height at 20, ..., its CRC over 12..28 at 29
        ByteBuffer b = ByteBuffer.wrap(png);
        b.putInt(16, 30_000);
        b.putInt(20, 30_000);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        long start = System.nanoTime();
        BadInputException e = assertThrows(BadInputException.class, () -> new GreyImages(4, false).row(png, "huge.png"));
        assertTrue(e.getMessage().contains("huge.png is 30000x30000 pixels, more than the 50000000"), e.getMessage());
        assertTrue(System.nanoTime() - start < 5e9, "refused from the header, not after allocating 900 million pixels");
    }

    @Test
    void checksTheSizeAndKnowsImageNames() {
        assertEquals("--image-size must lie in [1, 1024], got 0",
                assertThrows(BadInputException.class, () -> new GreyImages(0, false)).getMessage());
        assertEquals("--image-size must lie in [1, 1024], got 1025",
                assertThrows(BadInputException.class, () -> GreyImages.checkSize(1025)).getMessage());
        for (String name : new String[] {"a.png", "B.PNG", "c.jpg", "d.JPEG", "e.pgm", "f.bmp", "g.gif"}) {
            assertTrue(GreyImages.isImageName(name), name);
        }
        for (String name : new String[] {"README", "a.txt", "png", "a.png.txt", "a.tif"}) {
            assertFalse(GreyImages.isImageName(name), name);
        }
    }
}
