package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.AtomicFiles;
import dev.softmaxlosses.lab.BadInputException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * An IDX file, the format of MNIST and Fashion-MNIST: two zero bytes, a type byte, the number of
 * dimensions, each dimension as a big-endian 32-bit integer, then the values in row-major order.
 * Only unsigned bytes (type {@code 0x08}) are read, which is what every MNIST-style data set uses.
 *
 * <p>A gzipped file is recognised by its first two bytes ({@code 1f 8b}), not by its name, so
 * {@code train-images-idx3-ubyte} may be compressed or not. A file that ends early, carries bytes
 * after its data, or has a header that does not describe its size is refused with a message that
 * names the file and says what is wrong: a corrupt download should stop a run, not train on noise.
 *
 * @param dims the size of each dimension (for images: count, rows, columns)
 * @param data the values as unsigned bytes ({@code data[i] & 0xff})
 */
public record IdxFile(int[] dims, byte[] data) {

    /** The type byte of unsigned 8-bit values. */
    public static final int UNSIGNED_BYTE = 0x08;

    public IdxFile {
        dims = dims.clone();
        if (dims.length == 0 || dims.length > 255) {
            throw new IllegalArgumentException("an IDX file has 1 to 255 dimensions, got " + dims.length);
        }
        if (count(dims) != data.length) {
            throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " need " + count(dims)
                    + " values, got " + data.length);
        }
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** Reads a file, gzipped or not. */
    public static IdxFile read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new BadInputException("data file " + file + " does not exist");
        } catch (IOException e) {
            throw new BadInputException("cannot read data file " + file + ": " + e.getMessage());
        }
    }

    /**
     * Reads a stream, gzipped or not; {@code name} is what error messages call it. The header is read
     * first and the data no further than it promises, so a small file that claims (or a gzip file that
     * expands to) gigabytes costs no more memory than the bytes it really holds.
     */
    public static IdxFile read(InputStream stream, String name) throws IOException {
        try {
            InputStream in = decompressed(stream);
            byte[] start = in.readNBytes(4);
            if (start.length < 4) {
                throw new BadInputException(name + " is not an IDX file: it holds only " + start.length + " bytes");
            }
            if (start[0] != 0 || start[1] != 0) {
                throw new BadInputException(name + " is not an IDX file: it starts with bytes "
                        + hex(start[0]) + " " + hex(start[1]) + ", expected 0x00 0x00");
            }
            int type = start[2] & 0xff;
            if (type != UNSIGNED_BYTE) {
                throw new BadInputException(name + " holds IDX values of type " + hex(start[2])
                        + "; only unsigned bytes (0x08), as in MNIST, are supported");
            }
            int rank = start[3] & 0xff;
            if (rank == 0) {
                throw new BadInputException(name + " is a corrupt IDX file: its header gives 0 dimensions");
            }
            int header = 4 + 4 * rank;
            byte[] sizes = in.readNBytes(4 * rank);
            if (sizes.length < 4 * rank) {
                throw new BadInputException(name + " is truncated: it ends inside its header (" + (4 + sizes.length)
                        + " bytes, the header of " + rank + " dimensions needs " + header + ")");
            }
            ByteBuffer buffer = ByteBuffer.wrap(sizes);
            int[] dims = new int[rank];
            for (int i = 0; i < rank; i++) {
                dims[i] = buffer.getInt();
                if (dims[i] < 0) {
                    throw new BadInputException(name + " is a corrupt IDX file: dimension " + i + " is " + dims[i]);
                }
            }
            int expected = (int) count(dims);
            byte[] data = readUpTo(in, expected);
            if (data.length < expected) {
                throw new BadInputException(name + " is truncated: its header promises " + expected
                        + " bytes of data " + Arrays.toString(dims) + ", it holds " + data.length);
            }
            long extra = in.skip(TRAILING_SHOWN + 1);
            while (extra <= TRAILING_SHOWN && in.read() >= 0) {
                extra++;
            }
            if (extra > 0) {
                throw new BadInputException(name + " is corrupt: it holds " + (extra > TRAILING_SHOWN ? "more than "
                        + TRAILING_SHOWN : Long.toString(extra)) + " bytes after the " + expected
                        + " bytes of data its header " + Arrays.toString(dims) + " describes");
            }
            return new IdxFile(dims, data);
        } catch (EOFException e) {
            throw new BadInputException(name + " is a truncated gzip file (it ends before its compressed data does)");
        } catch (ZipException e) {
            throw new BadInputException(name + " is a corrupt gzip file: " + e.getMessage());
        }
    }

    /** How many bytes after the data a message counts exactly; beyond, it says "more than". */
    private static final int TRAILING_SHOWN = 1 << 20;

    /** Up to {@code n} bytes, in a buffer that grows with what arrives rather than with what was promised. */
    private static byte[] readUpTo(InputStream in, int n) throws IOException {
        byte[] data = new byte[Math.min(n, 1 << 20)];
        int size = 0;
        while (size < n) {
            if (size == data.length) {
                data = Arrays.copyOf(data, (int) Math.min(n, 2L * size));
            }
            int got = in.read(data, size, data.length - size);
            if (got < 0) {
                break;
            }
            size += got;
        }
        return size == data.length ? data : Arrays.copyOf(data, size);
    }

    /** Writes the file, gzipped when {@code gzip} is set; whole or not at all. */
    public void write(Path file, boolean gzip) throws IOException {
        try (AtomicFiles.Pending pending = AtomicFiles.create(file)) {
            GZIPOutputStream zipped = gzip ? new GZIPOutputStream(pending.stream(), 1 << 16) : null;
            OutputStream out = gzip ? zipped : pending.stream();
            ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length);
            header.put((byte) 0).put((byte) 0).put((byte) UNSIGNED_BYTE).put((byte) dims.length);
            for (int d : dims) {
                header.putInt(d);
            }
            out.write(header.array());
            out.write(data);
            if (zipped != null) {
                zipped.finish();
            }
            pending.commit();
        }
    }

    /** The stream, through gunzip when it starts with gzip's magic bytes {@code 1f 8b}. */
    private static InputStream decompressed(InputStream stream) throws IOException {
        BufferedInputStream in = new BufferedInputStream(stream, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 != 0x1f || b1 != 0x8b) {
            return in;
        }
        return new GZIPInputStream(in, 1 << 16);
    }

    private static long count(int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
            if (n > Integer.MAX_VALUE - 16) {
                throw new BadInputException("an IDX file of dimensions " + Arrays.toString(dims) + " is too large to read");
            }
        }
        return n;
    }

    private static String hex(byte b) {
        return String.format("0x%02x", b & 0xff);
    }
}
