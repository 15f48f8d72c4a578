package io.linkcorrelator.app;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** What the application-level ITs share: config files, traced traffic, reading results. */
final class AppTestKit {

  static final long T0 = java.time.Instant.parse("2026-11-26T10:00:00Z").toEpochMilli();
  static final String INPUT = "orders";
  static final String OUTPUT = "order-windows";
  static final String DEAD_LETTERS = "orders-dead-letters";

  private AppTestKit() {}

  /** The input (4 partitions), output and dead-letter topics. */
  static void createTopics(EmbeddedKafka kafka) {
    kafka.createTopic(INPUT, 4);
    kafka.createTopics(1, OUTPUT, DEAD_LETTERS);
  }

  /**
   * Writes a configuration file: exactly-once, tumbling 10 s windows with 1 s grace, 4 s sessions
   * so that a killed instance's partitions move on quickly; {@code extraLines} override.
   */
  static Path config(Path dir, String name, String applicationId, String... extraLines) {
    List<String> lines =
        new ArrayList<>(
            List.of(
                "application.id=" + applicationId,
                "processing.guarantee=exactly_once_v2",
                "commit.interval.ms=200",
                "state.dir=" + dir.resolve("state-" + name),
                "session.timeout.ms=6000",
                "heartbeat.interval.ms=1000",
                "correlator.input.topics=" + INPUT,
                "correlator.output.topic=" + OUTPUT,
                "correlator.dead.letter.topic=" + DEAD_LETTERS,
                "correlator.window.type=tumbling",
                "correlator.window.size.ms=10000",
                "correlator.window.grace.ms=1000"));
    lines.addAll(List.of(extraLines));
    Path file = dir.resolve(name + ".properties");
    try {
      Files.writeString(file, String.join("\n", lines));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** The environment of a correlator exporting to the receiver. */
  static Map<String, String> env(EmbeddedKafka kafka, OtlpReceiver receiver, boolean grpc) {
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("OTEL_SERVICE_NAME", "correlator-it");
    env.put(
        "OTEL_EXPORTER_OTLP_ENDPOINT", grpc ? receiver.grpcEndpoint() : receiver.httpEndpoint());
    env.put("OTEL_EXPORTER_OTLP_PROTOCOL", grpc ? "grpc" : "http/protobuf");
    env.put("OTEL_METRICS_EXPORTER", "none");
    env.put("OTEL_BSP_SCHEDULE_DELAY", "200");
    return env;
  }

  /** The trace and span id of the producer span of message {@code i}: "trace/span". */
  static String producerSpan(int i) {
    return String.format("%032x", 0xABC0_0000L + i)
        + "/"
        + String.format("%016x", 0xDEF0_0000L + i);
  }

  /**
   * Message {@code i}: key {@code customer-(i % keys)}, event time {@code T0 + i * step}, and its
   * producer span in W3C headers, or as dd-trace (every 10th + 7) or Brave (every 10th + 8) write
   * it.
   */
  static ProducerRecord<String, byte[]> tracedMessage(int i, int keys, long stepMillis) {
    ProducerRecord<String, byte[]> record =
        new ProducerRecord<>(
            INPUT,
            null,
            T0 + i * stepMillis,
            "customer-" + (i % keys),
            ("order-" + i).getBytes(StandardCharsets.UTF_8));
    String[] ids = producerSpan(i).split("/");
    Headers headers = record.headers();
    switch (i % 10) {
      case 7 -> {
        headers.add(
            "x-datadog-trace-id",
            Long.toUnsignedString(Long.parseUnsignedLong(ids[0].substring(16), 16))
                .getBytes(StandardCharsets.UTF_8));
        headers.add(
            "x-datadog-parent-id",
            Long.toUnsignedString(Long.parseUnsignedLong(ids[1], 16))
                .getBytes(StandardCharsets.UTF_8));
        headers.add("x-datadog-sampling-priority", "1".getBytes(StandardCharsets.UTF_8));
      }
      case 8 -> headers.add("b3", (ids[0] + "-" + ids[1] + "-1").getBytes(StandardCharsets.UTF_8));
      default ->
          headers.add(
              "traceparent",
              ("00-" + ids[0] + "-" + ids[1] + "-01").getBytes(StandardCharsets.UTF_8));
    }
    return record;
  }

  static KafkaProducer<String, byte[]> producer(EmbeddedKafka kafka) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            8 * 1024 * 1024),
        new StringSerializer(),
        new ByteArraySerializer());
  }

  /** Sends messages [from, to) and flushes. */
  static void send(EmbeddedKafka kafka, int from, int to, int keys, long stepMillis) {
    try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
      for (int i = from; i < to; i++) {
        producer.send(tracedMessage(i, keys, stepMillis));
      }
    }
  }

  /** One record per input partition, far in the future: every window closes. */
  static void closeAllWindows(EmbeddedKafka kafka) {
    try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
      for (int partition = 0; partition < 4; partition++) {
        producer.send(
            new ProducerRecord<>(INPUT, partition, T0 + 3_600_000L, "closer", new byte[] {1}));
      }
    }
  }

  static KafkaConsumer<String, WindowResult> resultConsumer(EmbeddedKafka kafka, String isolation) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            "reader-" + System.nanoTime(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            isolation),
        new StringDeserializer(),
        AvroSerde.of(WindowResult.class).deserializer());
  }

  /**
   * Reads results of {@code customer-*} keys until {@code done} says so or the time is up.
   *
   * @return every result read, duplicates included
   */
  static List<ConsumerRecord<String, WindowResult>> readResults(
      EmbeddedKafka kafka,
      String isolation,
      Duration timeout,
      java.util.function.Predicate<List<ConsumerRecord<String, WindowResult>>> done,
      BooleanSupplier alive) {
    List<ConsumerRecord<String, WindowResult>> results = new ArrayList<>();
    try (KafkaConsumer<String, WindowResult> consumer = resultConsumer(kafka, isolation)) {
      consumer.subscribe(List.of(OUTPUT));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && !done.test(results) && alive.getAsBoolean()) {
        consumer
            .poll(Duration.ofMillis(250))
            .forEach(
                r -> {
                  if (r.key().startsWith("customer-")) {
                    results.add(r);
                  }
                });
      }
    }
    return results;
  }

  /** Reads (read_committed) the dead-letter topic until {@code expected} letters or 60 s. */
  static List<ConsumerRecord<byte[], byte[]>> readDeadLetters(EmbeddedKafka kafka, int expected) {
    List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "dead-letter-reader-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(DEAD_LETTERS));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (letters.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(250)).forEach(letters::add);
      }
    }
    return letters;
  }

  /** The reason Kafka Streams wrote into a dead letter. */
  static String reason(ConsumerRecord<byte[], byte[]> letter) {
    return new String(
        letter.headers().lastHeader("__streams.errors.message").value(), StandardCharsets.UTF_8);
  }

  /** "trace/span" of every link of every received span, with how often it was linked. */
  static Map<String, Integer> linkCounts(List<ReceivedSpan> spans) {
    Map<String, Integer> linked = new HashMap<>();
    spans.forEach(
        span ->
            span.links()
                .forEach(
                    link -> linked.merge(link.traceId() + "/" + link.spanId(), 1, Integer::sum)));
    return linked;
  }

  static String log(CorrelatorProcess process) {
    try {
      return Files.readString(process.log());
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  static void sleep(Duration duration) {
    try {
      TimeUnit.MILLISECONDS.sleep(duration.toMillis()); // letting a separate process make progress
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
