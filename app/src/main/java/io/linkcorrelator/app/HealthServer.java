package io.linkcorrelator.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams.State;

/**
 * Liveness and readiness over HTTP, for an orchestrator's probes (the JDK's own server, one
 * thread).
 *
 * <ul>
 *   <li>{@value #LIVE_PATH}: 200 unless Kafka Streams is in {@code PENDING_ERROR} or {@code ERROR}
 *       — the only states it never leaves by itself, so the only ones where a restart helps.
 *       Rebalancing, restoring state and shutting down are alive.
 *   <li>{@value #READY_PATH}: 200 only while Kafka Streams is {@code RUNNING}; 503 in every other
 *       state, {@code REBALANCING} included.
 * </ul>
 *
 * <p>Both answer with a small JSON body naming the state, e.g. {@code {"status":"UP",
 * "state":"RUNNING"}}. Anything but {@code GET} or {@code HEAD} gets 405.
 */
final class HealthServer implements AutoCloseable {

  static final String LIVE_PATH = "/health/live";
  static final String READY_PATH = "/health/ready";

  private final HttpServer server;
  private final ExecutorService executor;

  private HealthServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving on all interfaces.
   *
   * @param port the port, 1–65535 (0: a free one, see {@link #port()})
   * @param state the current Kafka Streams state, read on every request
   * @throws IllegalArgumentException naming {@code correlator.health.port} when the port is taken
   */
  static HealthServer start(int port, Supplier<State> state) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(port), 16);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          AppConfig.HEALTH_PORT + " " + port + ": cannot listen: " + e.getMessage(), e);
    }
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "correlator-health");
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.createContext(LIVE_PATH, exchange -> answer(exchange, state.get(), HealthServer::live));
    server.createContext(
        READY_PATH, exchange -> answer(exchange, state.get(), HealthServer::ready));
    server.start();
    return new HealthServer(server, executor);
  }

  static boolean live(State state) {
    return state != State.PENDING_ERROR && state != State.ERROR;
  }

  static boolean ready(State state) {
    return state == State.RUNNING;
  }

  /**
   * The port it listens on.
   *
   * @return the port
   */
  int port() {
    return server.getAddress().getPort();
  }

  private static void answer(HttpExchange exchange, State state, Predicate<State> check)
      throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      boolean up = check.test(state);
      byte[] body =
          String.format("{\"status\":\"%s\",\"state\":\"%s\"}\n", up ? "UP" : "DOWN", state)
              .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(up ? 200 : 503, -1);
        return;
      }
      exchange.sendResponseHeaders(up ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Stops serving: probes then get connection refused. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
