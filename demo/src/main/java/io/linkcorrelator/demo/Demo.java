package io.linkcorrelator.demo;

import io.linkcorrelator.app.AppConfig;
import io.linkcorrelator.app.CorrelatorApp;
import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one-command demo: a real Kafka broker and OTLP receiver in this JVM, traced traffic from four
 * simulated services (W3C, Datadog and B3 headers) publishing JSON orders, and the correlator,
 * which groups the orders by the JSON field {@code customer.id} in 5-second windows. As windows
 * close it prints one line per result: the window, the customer, how many orders, the aggregate
 * trace id, and how many of the orders' producer spans arrived at the receiver as links of that
 * aggregate span.
 *
 * <p>Sends traffic for {@code --duration SECONDS} (default 30; or {@code DEMO_DURATION_SECONDS}),
 * then waits for the last windows to close by idleness and ends with how many orders were counted
 * and linked: it exits with status 1 when an order was not counted in a closed window or a closed
 * window misses a link, so CI fails on a regression. Ctrl-C stops it early, without that verdict.
 * With {@code OTEL_EXPORTER_OTLP_ENDPOINT} set (and {@code OTEL_EXPORTER_OTLP_PROTOCOL}), every
 * span goes there instead of the in-JVM receiver.
 */
public final class Demo {

  static {
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:log4j2-demo.xml");
    }
  }

  static final String ORDERS = "orders";
  static final String WINDOWS = "order-windows";
  static final String DEAD_LETTERS = "orders-dead-letters";
  private static final int ORDERS_PER_SECOND = 80;
  private static final int CUSTOMERS = 6;

  /** Upstream partitions idle after this long: the demo's windows do not wait longer at start. */
  private static final long PARTITION_IDLE_MS = 5_000;

  /** After the traffic stops, the last windows close this long after the last order. */
  private static final long IDLE_CLOSE_MS = 6_000;

  /** How long the demo waits for the last windows after the traffic stops. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(60);

  private Demo() {}

  /**
   * Runs the demo.
   *
   * @param args {@code --duration SECONDS}, optional
   * @throws Exception when the demo cannot run
   */
  public static void main(String[] args) throws Exception {
    Duration duration = duration(args);
    String externalEndpoint = System.getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    String protocol = System.getenv().getOrDefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    AtomicBoolean running = new AtomicBoolean(true);
    CountDownLatch finished = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  running.set(false);
                  awaitQuietly(finished);
                }));
    long started = System.nanoTime();
    boolean failed = false;
    Path stateDir = Files.createTempDirectory("link-correlator-demo-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        OtlpReceiver receiver = externalEndpoint == null ? OtlpReceiver.start() : null) {
      String endpoint =
          externalEndpoint != null
              ? externalEndpoint
              : protocol.equals("grpc") ? receiver.grpcEndpoint() : receiver.httpEndpoint();
      kafka.createTopic(ORDERS, 4);
      kafka.createTopics(1, WINDOWS, DEAD_LETTERS);
      System.out.printf(
          "Kafka %s and %s up in %d ms; spans go to %s (%s)%n",
          kafka.bootstrapServers(),
          receiver == null ? "no local OTLP receiver" : "an OTLP receiver",
          elapsedMillis(started),
          endpoint,
          protocol);

      Map<String, String> env = new HashMap<>();
      env.put("OTEL_SERVICE_NAME", "link-correlator");
      env.put("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
      env.put("OTEL_METRICS_EXPORTER", "none");
      env.put("OTEL_BSP_SCHEDULE_DELAY", "500");
      SentOrders sent = new SentOrders();
      try (CorrelatorApp correlator =
              CorrelatorApp.start(AppConfig.of(correlatorProperties(kafka, stateDir), env), env);
          TrafficGenerator traffic =
              new TrafficGenerator(
                  kafka.bootstrapServers(),
                  ORDERS,
                  () -> TrafficGenerator.exporter(endpoint, protocol),
                  CUSTOMERS);
          ResultPrinter printer = new ResultPrinter(kafka, receiver, sent)) {
        System.out.printf(
            "correlating %s -> %s: tumbling 5 s windows (grace 1 s) by customer, sum of amount;"
                + " %d orders/s from %s for %d s (Ctrl-C stops)%n",
            ORDERS,
            WINDOWS,
            ORDERS_PER_SECOND,
            TrafficGenerator.SERVICES.stream()
                .map(s -> s.name() + " (" + s.propagation() + ")")
                .toList(),
            duration.toSeconds());
        long deadline = System.nanoTime() + duration.toNanos();
        Thread generator =
            new Thread(
                () -> {
                  try {
                    traffic.run(
                        ORDERS_PER_SECOND,
                        () -> running.get() && System.nanoTime() < deadline,
                        sent::add);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "traffic");
        generator.start();
        long nextProgress = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (running.get() && System.nanoTime() < deadline) {
          printer.poll(Duration.ofMillis(200));
          if (System.nanoTime() >= nextProgress) {
            System.out.printf(
                "[%2ds] %d orders sent by %d services, %d windows closed, %s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started),
                traffic.sent(),
                TrafficGenerator.SERVICES.size(),
                printer.windows(),
                printer.linkSummary());
            nextProgress += TimeUnit.SECONDS.toNanos(5);
          }
        }
        generator.join();
        boolean complete = running.get();
        if (complete) {
          System.out.printf(
              "traffic stopped; the last windows close once no order has moved event time for %d"
                  + " ms (correlator.window.idle.close.ms)%n",
              IDLE_CLOSE_MS);
          long closeDeadline = System.nanoTime() + CLOSE_WAIT.toNanos();
          while (running.get()
              && printer.counted() < traffic.sent()
              && System.nanoTime() < closeDeadline) {
            printer.poll(Duration.ofMillis(200));
          }
        }
        printer.drain(Duration.ofSeconds(10));
        System.out.printf(
            "done after %d s: %d orders sent, %d counted in %d closed windows, %s%n",
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started),
            traffic.sent(),
            printer.counted(),
            printer.windows(),
            printer.linkSummary());
        if (complete
            && (printer.counted() != traffic.sent() || printer.windowsMissingLinks() > 0)) {
          System.out.printf(
              "FAILED: %d of %d orders were counted in a closed window and %d windows miss a"
                  + " link%n",
              printer.counted(), traffic.sent(), printer.windowsMissingLinks());
          failed = true;
        }
      }
    } finally {
      finished.countDown();
    }
    if (failed) {
      System.exit(1);
    }
  }

  private static Properties correlatorProperties(EmbeddedKafka kafka, Path stateDir) {
    Properties properties = new Properties();
    properties.put("application.id", "link-correlator-demo");
    properties.put("bootstrap.servers", kafka.bootstrapServers());
    properties.put("processing.guarantee", "exactly_once_v2");
    properties.put("commit.interval.ms", "200");
    properties.put("state.dir", stateDir.toString());
    properties.put("correlator.input.topics", ORDERS);
    properties.put("correlator.output.topic", WINDOWS);
    properties.put("correlator.dead.letter.topic", DEAD_LETTERS);
    properties.put("correlator.window.type", "tumbling");
    properties.put("correlator.window.size.ms", "5000");
    properties.put("correlator.window.grace.ms", "1000");
    properties.put("correlator.value.format", "json");
    properties.put("correlator.group.by", "field:customer.id");
    properties.put("correlator.aggregate.field", "amount");
    properties.put("correlator.partition.idle.ms", String.valueOf(PARTITION_IDLE_MS));
    properties.put("correlator.window.idle.close.ms", String.valueOf(IDLE_CLOSE_MS));
    return properties;
  }

  private static Duration duration(String[] args) {
    String value = System.getenv().getOrDefault("DEMO_DURATION_SECONDS", "30");
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--duration")) {
        value = args[i + 1];
      }
    }
    try {
      return Duration.ofSeconds(Long.parseLong(value));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--duration takes whole seconds; got '" + value + "'");
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static long elapsedMillis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
