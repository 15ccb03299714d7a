package dev.softmaxlosses.lab.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server on the loopback address that speaks HTTP by hand, one thread per connection, so that it can
 * misbehave as {@code HttpServer} will not: say nothing, stop halfway, trickle. It notes when a client
 * has hung up, which a conversation learns from a read that ends or a write that fails.
 */
final class RawHttpServer implements AutoCloseable {

    /** What the server does once it has read a request. */
    interface Conversation {
        void talk(InputStream in, OutputStream out) throws IOException, InterruptedException;
    }

    private final ServerSocket listener;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final CountDownLatch hungUp = new CountDownLatch(1);
    private final AtomicInteger connections = new AtomicInteger();

    RawHttpServer(Conversation conversation) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    open.add(s);
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s, conversation), "raw-http-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "raw-http-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void serve(Socket s, Conversation conversation) {
        try (s) {
            InputStream in = s.getInputStream();
            readRequest(in);
            conversation.talk(in, s.getOutputStream());
        } catch (IOException e) {
            // the client hung up while the server was talking
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        hungUp.countDown();
    }

    private static void readRequest(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the client hung up before the end of its request");
            }
            matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        }
    }

    /** Says nothing, until the client hangs up. */
    static void silence(InputStream in) throws IOException {
        while (in.read() >= 0) {
            // the request has no body: anything more is the client's business
        }
    }

    /** Writes the status line and headers of a 200 with {@code length} bytes of body. */
    static void headers(OutputStream out, long length) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The base URL, ending with {@code /}. */
    String base() {
        return "http://" + listener.getInetAddress().getHostAddress() + ":" + listener.getLocalPort() + "/";
    }

    int connections() {
        return connections.get();
    }

    /** Whether a client hung up within {@code millis}. */
    boolean clientHungUpWithin(long millis) throws InterruptedException {
        return hungUp.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
