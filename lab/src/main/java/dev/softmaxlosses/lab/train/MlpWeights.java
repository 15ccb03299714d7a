package dev.softmaxlosses.lab.train;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The lab's own network's learned arrays in a file of their own, {@value #FILE}: every parameter (dense
 * weights and biases, batch norm's scales and shifts, PReLU's slopes) and batch norm's running
 * statistics, which inference uses. All numbers are big-endian ({@link DataOutputStream}'s):
 *
 * <pre>
 *   "SLMW"                 4 bytes, ASCII: softmax-lab MLP weights
 *   version                int32, {@value #VERSION}
 *   count                  int32, the number of arrays
 *   count times:
 *     name                 DataOutput.writeUTF: uint16 length, then modified UTF-8 ("hidden1.weight")
 *     type                 1 byte: 'f' float32, 'd' float64
 *     length               int32, the number of values
 *     values               length IEEE 754 values of the type
 *   crc                    int32, CRC-32 of every byte before it
 * </pre>
 *
 * The arrays come in the network's order, layer by layer: a dense layer's {@code NAME.weight}
 * ({@code out x in}, row-major) and {@code NAME.bias} (absent under batch norm); a batch norm's
 * {@code NAME.gamma}, {@code NAME.beta} (float32) and {@code NAME.running_mean}, {@code NAME.running_var}
 * (float64, as the layer keeps them); a PReLU's {@code NAME.slope}. Reading rebuilds the network from its
 * settings and requires exactly these arrays with exactly these lengths, so the weights come back bit for bit.
 */
public final class MlpWeights {

    /** The file's name in a saved model's folder. */
    public static final String FILE = "weights.bin";

    /** The format's version. */
    public static final int VERSION = 1;

    private static final byte[] MAGIC = "SLMW".getBytes(StandardCharsets.US_ASCII);

    /** One array of the file: floats or doubles, live. */
    private record Entry(String name, float[] floats, double[] doubles) {
        int length() {
            return floats != null ? floats.length : doubles.length;
        }

        char type() {
            return floats != null ? 'f' : 'd';
        }
    }

    private MlpWeights() {}

    /** Writes {@code network}'s arrays into {@code file}. */
    public static void write(Mlp network, Path file) throws IOException {
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            CheckedOutputStream checked = new CheckedOutputStream(raw, new CRC32());
            DataOutputStream out = new DataOutputStream(checked);
            List<Entry> entries = entries(network);
            out.write(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(entries.size());
            for (Entry e : entries) {
                out.writeUTF(e.name());
                out.writeByte(e.type());
                out.writeInt(e.length());
                for (int i = 0; i < e.length(); i++) {
                    if (e.floats() != null) {
                        out.writeFloat(e.floats()[i]);
                    } else {
                        out.writeDouble(e.doubles()[i]);
                    }
                }
            }
            out.flush();
            new DataOutputStream(raw).writeInt((int) checked.getChecksum().getValue());
        }
    }

    /**
     * The network of {@code inputSize} inputs that {@code settings} describe, with its arrays read from
     * {@code file}.
     *
     * @throws IOException when the file cannot be read, or is not such a file: its message says what is
     *                     wrong (another format or version, an array missing or of the wrong length, a
     *                     checksum that does not match, bytes after the end)
     */
    public static Mlp read(Path file, int inputSize, TrainingSettings settings) throws IOException {
        // The initial weights are overwritten: any seed does.
        Mlp network = new Mlp(inputSize, settings.hidden(), settings.embedding(), settings.activation(),
                settings.batchNorm(), new Random(0));
        List<Entry> entries = entries(network);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            CheckedInputStream checked = new CheckedInputStream(raw, new CRC32());
            DataInputStream in = new DataInputStream(checked);
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException("it is not a weights file of the lab (it does not start with SLMW)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException("it has version " + version + " of the format; this lab reads version " + VERSION);
            }
            int count = in.readInt();
            if (count != entries.size()) {
                throw new IOException("it holds " + count + " arrays; the network of the saved settings has " + entries.size());
            }
            for (Entry e : entries) {
                String name = in.readUTF();
                char type = (char) in.readUnsignedByte();
                int length = in.readInt();
                if (!name.equals(e.name()) || type != e.type() || length != e.length()) {
                    throw new IOException("found " + describe(name, type, length) + " where the saved settings need "
                            + describe(e.name(), e.type(), e.length()));
                }
                for (int i = 0; i < length; i++) {
                    if (e.floats() != null) {
                        e.floats()[i] = in.readFloat();
                    } else {
                        e.doubles()[i] = in.readDouble();
                    }
                }
            }
            int expected = (int) checked.getChecksum().getValue();
            int crc = new DataInputStream(raw).readInt();
            if (crc != expected) {
                throw new IOException("its checksum does not match its content (the file is damaged)");
            }
            if (raw.read() != -1) {
                throw new IOException("it has bytes after its end");
            }
        } catch (EOFException e) {
            throw new IOException("it ends early (the file is truncated)", e);
        } catch (java.io.UTFDataFormatException e) {
            throw new IOException("an array's name is not valid text (the file is damaged)", e);
        }
        return network;
    }

    private static String describe(String name, char type, int length) {
        return "'" + name + "' (" + length + (type == 'f' ? " float32" : type == 'd' ? " float64" : " values of type " + (int) type)
                + " values)";
    }

    /** The arrays of {@code network}, live, in the file's order. */
    private static List<Entry> entries(Mlp network) {
        List<Entry> entries = new ArrayList<>();
        for (Layer layer : network.layers()) {
            for (Parameter p : layer.parameters()) {
                entries.add(new Entry(p.name(), p.value(), null));
            }
            if (layer instanceof BatchNorm bn) {
                entries.add(new Entry(bn.name() + ".running_mean", null, bn.runningMean()));
                entries.add(new Entry(bn.name() + ".running_var", null, bn.runningVar()));
            }
        }
        return entries;
    }
}
