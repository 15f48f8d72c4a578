package io.linkcorrelator.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End to end: the correlator's real main, configuration file and environment, in its own JVM,
 * against a real broker with a 4-partition input topic, exporting over real OTLP to the receiver.
 */
class CorrelatorAppIT {

  private static final long T0 = CorrelatorHarness.T0;
  private static final int MESSAGES = 2_000;
  private static final int KEYS = 10;
  private static final int WINDOWS = 5;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Http", "Grpc"})
  void everyProducerSpanIsLinkedExactlyOnceAndEveryResultNamesAReceivedSpan(String transport)
      throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        OtlpReceiver receiver = OtlpReceiver.start()) {
      kafka.createTopic("orders", 4);
      kafka.createTopics(1, "order-windows", "orders-dead-letters");
      Path config = dir.resolve("correlator.properties");
      Files.writeString(
          config,
          String.join(
              "\n",
              "application.id=e2e-" + transport.toLowerCase(),
              "processing.guarantee=exactly_once_v2",
              "commit.interval.ms=200",
              "state.dir=" + dir.resolve("state"),
              "correlator.input.topics=orders",
              "correlator.output.topic=order-windows",
              "correlator.dead.letter.topic=orders-dead-letters",
              "correlator.window.type=tumbling",
              "correlator.window.size.ms=10000",
              "correlator.window.grace.ms=1000",
              "correlator.links.per.span.max=64"));
      Map<String, String> env = new HashMap<>();
      env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
      env.put("OTEL_SERVICE_NAME", "correlator-e2e");
      env.put(
          "OTEL_EXPORTER_OTLP_ENDPOINT",
          transport.equals("Http") ? receiver.httpEndpoint() : receiver.grpcEndpoint());
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", transport.equals("Http") ? "http/protobuf" : "grpc");
      env.put("OTEL_METRICS_EXPORTER", "none");
      env.put("OTEL_BSP_SCHEDULE_DELAY", "200");

      Set<String> producerSpans;
      List<ConsumerRecord<String, WindowResult>> results;
      try (CorrelatorProcess correlator =
          CorrelatorProcess.start(config, env, dir.resolve("correlator.log"))) {
        producerSpans = produceTracedOrders(kafka);
        results = readResults(kafka, KEYS * WINDOWS, correlator);
        // 143 = 128 + SIGTERM: the JVM's exit status after its shutdown hooks ran to the end.
        assertThat(correlator.stop())
            .as("exit on SIGTERM; log: %s", correlator.log())
            .isEqualTo(143);
        assertThat(Files.readString(correlator.log()))
            .as("Kafka Streams closed, then spans flushed")
            .containsSubsequence(
                "stopping: closing Kafka Streams", "stopping: flushing spans", "stopped");
      }

      assertThat(results).hasSize(KEYS * WINDOWS);
      assertThat(results.stream().mapToLong(r -> r.value().getMessageCount()).sum())
          .isEqualTo(MESSAGES);
      List<ReceivedSpan> spans = receiver.spans();
      assertThat(spans).allSatisfy(span -> assertThat(span.droppedLinksCount()).isZero());
      assertThat(spans)
          .allSatisfy(
              span ->
                  assertThat(span.resourceAttributes())
                      .containsEntry("service.name", "correlator-e2e"));
      Map<String, Integer> linked = new HashMap<>();
      spans.forEach(
          span ->
              span.links()
                  .forEach(
                      link -> linked.merge(link.traceId() + "/" + link.spanId(), 1, Integer::sum)));
      assertThat(linked.keySet()).containsExactlyInAnyOrderElementsOf(producerSpans);
      assertThat(linked.values()).as("each producer span linked exactly once").containsOnly(1);
      Set<String> aggregates = new HashSet<>();
      for (ConsumerRecord<String, WindowResult> result : results) {
        String traceparent =
            new String(result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
        String[] fields = traceparent.split("-");
        assertThat(spans)
            .as("a received aggregate span for %s", traceparent)
            .anySatisfy(
                span -> {
                  assertThat(span.traceId()).isEqualTo(fields[1]);
                  assertThat(span.spanId()).isEqualTo(fields[2]);
                  assertThat(span.parentSpanId()).isEmpty();
                  assertThat(span.name()).isEqualTo("aggregate orders");
                });
        aggregates.add(fields[2]);
      }
      assertThat(aggregates).hasSize(KEYS * WINDOWS);
    }
  }

  /**
   * 2,000 orders over 10 keys and 5 windows, most with W3C headers, some as dd-trace and Brave
   * write them.
   */
  private static Set<String> produceTracedOrders(EmbeddedKafka kafka) {
    Set<String> producerSpans = new HashSet<>();
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG,
                5),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < MESSAGES; i++) {
        long time = T0 + i * (WINDOWS * 10_000L / MESSAGES);
        ProducerRecord<String, byte[]> record =
            new ProducerRecord<>(
                "orders",
                null,
                time,
                "customer-" + (i % KEYS),
                ("order-" + i).getBytes(StandardCharsets.UTF_8));
        String traceId = String.format("%032x", 0xABC0_0000L + i);
        String spanId = String.format("%016x", 0xDEF0_0000L + i);
        write(record.headers(), i, traceId, spanId);
        producerSpans.add(traceId + "/" + spanId);
        producer.send(record);
      }
      // Stream time passes every window's end plus grace on every partition.
      for (int partition = 0; partition < 4; partition++) {
        producer.send(
            new ProducerRecord<>("orders", partition, T0 + 3_600_000L, "closer", new byte[] {1}));
      }
    }
    return producerSpans;
  }

  private static void write(Headers headers, int i, String traceId, String spanId) {
    switch (i % 10) {
      case 7 -> {
        headers.add(
            "x-datadog-trace-id",
            Long.toUnsignedString(Long.parseUnsignedLong(traceId.substring(16), 16))
                .getBytes(StandardCharsets.UTF_8));
        headers.add(
            "x-datadog-parent-id",
            Long.toUnsignedString(Long.parseUnsignedLong(spanId, 16))
                .getBytes(StandardCharsets.UTF_8));
        headers.add("x-datadog-sampling-priority", "1".getBytes(StandardCharsets.UTF_8));
      }
      case 8 -> headers.add("b3", (traceId + "-" + spanId + "-1").getBytes(StandardCharsets.UTF_8));
      default ->
          headers.add(
              "traceparent",
              ("00-" + traceId + "-" + spanId + "-01").getBytes(StandardCharsets.UTF_8));
    }
  }

  private static List<ConsumerRecord<String, WindowResult>> readResults(
      EmbeddedKafka kafka, int expected, CorrelatorProcess correlator) throws IOException {
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "e2e-reader",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, WindowResult>> results = new ArrayList<>();
    try (KafkaConsumer<String, WindowResult> consumer =
        new KafkaConsumer<>(
            props, new StringDeserializer(), AvroSerde.of(WindowResult.class).deserializer())) {
      consumer.subscribe(List.of("order-windows"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && results.size() < expected && correlator.isAlive()) {
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
    if (results.size() < expected) {
      throw new AssertionError(
          "got "
              + results.size()
              + " of "
              + expected
              + " results; correlator log:\n"
              + Files.readString(correlator.log()));
    }
    return results;
  }
}
