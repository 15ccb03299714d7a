package dev.softmaxlosses.lab.data;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Small image files and archives for the tests, written with the JDK's own ImageIO and ZipOutputStream. */
public final class ImageFiles {

    private ImageFiles() {}

    /** An 8-bit grey image of {@code width x height} whose pixel {@code i} (row-major) is {@code grey[i]}. */
    public static BufferedImage grey(int width, int height, int... grey) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setPixels(0, 0, width, height, grey);
        return image;
    }

    /** A grey {@code width x height} image whose pixels are {@code (seed * 37 + i * 11) % 256}. */
    public static BufferedImage pattern(int width, int height, int seed) {
        int[] v = new int[width * height];
        for (int i = 0; i < v.length; i++) {
            v[i] = (seed * 37 + i * 11) % 256;
        }
        return grey(width, height, v);
    }

    /** The grey values of {@link #pattern} in [0, 1]. */
    public static float[] patternValues(int width, int height, int seed) {
        float[] v = new float[width * height];
        for (int i = 0; i < v.length; i++) {
            v[i] = ((seed * 37 + i * 11) % 256) / 255f;
        }
        return v;
    }

    /** {@code image} encoded as {@code format} (png, jpeg, bmp, gif). */
    public static byte[] encode(BufferedImage image, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no " + format + " writer for " + image);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static byte[] png(BufferedImage image) {
        return encode(image, "png");
    }

    /** Writes each file of {@code files} (relative path with '/', content) under {@code folder}. */
    public static Path writeFolder(Path folder, Map<String, byte[]> files) {
        try {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Path p = folder.resolve(f.getKey());
                Files.createDirectories(p.getParent());
                Files.write(p, f.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return folder;
    }

    /** A zip archive of {@code files} (path with '/', content), in the map's order, with their folders' entries. */
    public static Path writeZip(Path zip, Map<String, byte[]> files) {
        try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file)) {
            java.util.Set<String> folders = new java.util.HashSet<>();
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                String name = f.getKey();
                for (int slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
                    String folder = name.substring(0, slash + 1);
                    if (folders.add(folder)) {
                        out.putNextEntry(new ZipEntry(folder));
                        out.closeEntry();
                    }
                }
                out.putNextEntry(new ZipEntry(name));
                out.write(f.getValue());
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return zip;
    }
}
