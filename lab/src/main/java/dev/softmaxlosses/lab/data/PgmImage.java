package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A greyscale image in the Netpbm PGM format, as the ORL faces are stored: binary ({@code P5}) or
 * plain text ({@code P2}), with {@code #} comments in the header and a maximum grey value up to
 * 65535 (two big-endian bytes per pixel above 255).
 *
 * @param width   pixels per row
 * @param height  rows
 * @param maxGrey the white level
 * @param pixels  {@code height x width} grey values in {@code [0, maxGrey]}, row-major
 */
public record PgmImage(int width, int height, int maxGrey, int[] pixels) {

    /** The most pixels an image may have. */
    public static final long MAX_PIXELS = 50_000_000;

    /** The largest file that can hold such an image: two bytes a pixel in binary, a few characters in plain text. */
    static final long MAX_FILE_BYTES = 8 * MAX_PIXELS + 4096;

    public PgmImage {
        if (width <= 0 || height <= 0 || maxGrey <= 0 || maxGrey > 65535) {
            throw new IllegalArgumentException("a PGM image needs a positive size and a maximum grey in [1, 65535], got "
                    + width + "x" + height + " with maximum " + maxGrey);
        }
        if ((long) width * height != pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " needs " + (long) width * height
                    + " pixels, got " + pixels.length);
        }
    }

    /** Reads a {@code P5} or {@code P2} file; anything else is an error naming the file. */
    public static PgmImage read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new BadInputException("image " + file + " is " + size + " bytes, more than a PGM image of at most "
                        + MAX_PIXELS + " pixels can be");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BadInputException("image " + file + " does not exist");
        } catch (IOException e) {
            throw new BadInputException("cannot read image " + file + ": " + e.getMessage());
        }
        return parse(bytes, file.toString());
    }

    /** Parses the bytes of a PGM file; {@code name} is what error messages call it. */
    public static PgmImage parse(byte[] bytes, String name) {
        Header h = new Header(bytes, name);
        String magic = h.token("the magic number");
        if (!magic.equals("P5") && !magic.equals("P2")) {
            throw new BadInputException(name + " is not a PGM image: it starts with '" + printable(magic)
                    + "', expected P5 (binary) or P2 (plain)");
        }
        int width = h.number("the width");
        int height = h.number("the height");
        int maxGrey = h.number("the maximum grey value");
        if (width <= 0 || height <= 0) {
            throw new BadInputException(name + " is a corrupt PGM image: its size is " + width + "x" + height);
        }
        if (maxGrey <= 0 || maxGrey > 65535) {
            throw new BadInputException(name + " is a corrupt PGM image: its maximum grey value is " + maxGrey
                    + ", expected 1 to 65535");
        }
        long count = (long) width * height;
        if (count > MAX_PIXELS) {
            throw new BadInputException(name + ": a " + width + "x" + height + " image is too large");
        }
        int[] pixels = new int[(int) count];
        if (magic.equals("P2")) {
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = h.grey(maxGrey, i);
            }
        } else {
            int start = h.position + 1; // exactly one whitespace byte separates the header from the raster
            int bytesPerPixel = maxGrey > 255 ? 2 : 1;
            long needed = count * bytesPerPixel;
            if (start > bytes.length || bytes.length - start < needed) {
                throw new BadInputException(name + " is truncated: its " + width + "x" + height + " pixels need "
                        + needed + " bytes, it holds " + Math.max(0, bytes.length - start));
            }
            for (int i = 0; i < pixels.length; i++) {
                int v = bytesPerPixel == 1 ? bytes[start + i] & 0xff
                        : ((bytes[start + 2 * i] & 0xff) << 8) | (bytes[start + 2 * i + 1] & 0xff);
                if (v > maxGrey) {
                    throw new BadInputException(name + " is corrupt: pixel " + i + " is " + v
                            + ", above its maximum grey value " + maxGrey);
                }
                pixels[i] = v;
            }
        }
        return new PgmImage(width, height, maxGrey, pixels);
    }

    /** The image as a binary {@code P5} file. */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("P5\n" + width + " " + height + "\n" + maxGrey + "\n").getBytes(StandardCharsets.US_ASCII));
        for (int p : pixels) {
            if (maxGrey > 255) {
                out.write(p >>> 8);
            }
            out.write(p & 0xff);
        }
        return out.toByteArray();
    }

    private static String printable(String s) {
        String cut = s.length() > 8 ? s.substring(0, 8) : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** Reads the whitespace-separated tokens of a header, skipping {@code #} comments. */
    private static final class Header {
        final byte[] bytes;
        final String name;
        int position;

        Header(byte[] bytes, String name) {
            this.bytes = bytes;
            this.name = name;
        }

        String token(String what) {
            skipSpaceAndComments();
            int start = position;
            while (position < bytes.length && !isSpace(bytes[position]) && bytes[position] != '#') {
                position++;
            }
            if (start == position) {
                throw new BadInputException(name + " is truncated: it ends before " + what);
            }
            return new String(bytes, start, position - start, StandardCharsets.ISO_8859_1);
        }

        int number(String what) {
            String t = token(what);
            try {
                return Integer.parseInt(t);
            } catch (NumberFormatException e) {
                throw new BadInputException(name + " is a corrupt PGM image: " + what + " is '" + printable(t)
                        + "', not a number");
            }
        }

        int grey(int maxGrey, int index) {
            int v = number("pixel " + index);
            if (v < 0 || v > maxGrey) {
                throw new BadInputException(name + " is corrupt: pixel " + index + " is " + v
                        + ", outside [0, " + maxGrey + "]");
            }
            return v;
        }

        private void skipSpaceAndComments() {
            while (position < bytes.length) {
                if (isSpace(bytes[position])) {
                    position++;
                } else if (bytes[position] == '#') {
                    while (position < bytes.length && bytes[position] != '\n' && bytes[position] != '\r') {
                        position++;
                    }
                } else {
                    return;
                }
            }
        }

        private static boolean isSpace(byte b) {
            return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == 0x0c;
        }
    }
}
