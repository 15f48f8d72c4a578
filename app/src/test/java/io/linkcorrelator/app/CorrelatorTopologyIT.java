package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology on a real broker under exactly-once, regrouping by a header through a real
 * repartition topic, exporting over real OTLP/HTTP to the receiver: every producer span is linked
 * exactly once and every result's traceparent names a received aggregate span.
 */
class CorrelatorTopologyIT {

  private static final long T0 = CorrelatorHarness.T0;

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path stateDir;

  @Test
  void linksEveryProducedMessageExactlyOnceThroughARealBrokerAndOtlp() throws Exception {
    kafka.createTopic("events", 4);
    kafka.createTopic("results", 1);
    SdkTracerProvider tracing =
        SdkTracerProvider.builder()
            .setIdGenerator(DeterministicIds.idGenerator())
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(
                                AttributeKey.stringKey("service.name"), "correlator-it"))))
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(receiver.httpTracesUrl())
                            .build())
                    .build())
            .build();
    InMemoryMetricReader metrics = InMemoryMetricReader.create();
    CorrelatorConfig config =
        CorrelatorConfig.builder()
            .applicationId("correlator-it")
            .inputTopics("events")
            .outputTopic("results")
            .groupBy(GroupBy.header("tenant"))
            // Regrouping interleaves the 4 input partitions: grace must cover that disorder.
            .window(WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ofMinutes(1)))
            .maxLinksPerSpan(32)
            .build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    // As the application runs it (AppConfig): bad and late records are dead-lettered.
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());

    try (OpenTelemetrySdk openTelemetry =
            OpenTelemetrySdk.builder()
                .setTracerProvider(tracing)
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .build();
        KafkaStreams streams =
            new KafkaStreams(CorrelatorTopology.build(config, openTelemetry), props)) {
      streams.start();

      Map<String, String> producerSpans = new HashMap<>(); // span id -> tenant
      try (KafkaProducer<String, byte[]> producer =
          new KafkaProducer<>(
              Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
              new StringSerializer(),
              new ByteArraySerializer())) {
        for (int i = 0; i < 400; i++) {
          String tenant = "tenant-" + (i % 5);
          ProducerRecord<String, byte[]> record =
              new ProducerRecord<>("events", null, T0 + i * 75L, "k" + i, new byte[] {1});
          record.headers().add("tenant", tenant.getBytes(StandardCharsets.UTF_8));
          record
              .headers()
              .add(
                  "traceparent", CorrelatorHarness.traceparent(i).getBytes(StandardCharsets.UTF_8));
          producer.send(record);
          producerSpans.put(CorrelatorHarness.spanId(i), tenant);
        }
        // Only once every record has reached its window (else a closer could overtake one on
        // its way through the repartition topic and make it late), advance stream time on
        // every repartition partition: many group keys, far in the future.
        awaitCounted(metrics, 400);
        for (int i = 0; i < 40; i++) {
          ProducerRecord<String, byte[]> closer =
              new ProducerRecord<>("events", i % 4, T0 + 3_600_000L, "closer", new byte[] {1});
          closer.headers().add("tenant", ("closer-" + i).getBytes(StandardCharsets.UTF_8));
          producer.send(closer);
        }
      }

      List<ConsumerRecord<String, WindowResult>> results =
          readResults(kafka, 15); // 5 tenants x 3 windows
      tracing.forceFlush().join(10, TimeUnit.SECONDS);

      assertThat(results).hasSize(15);
      assertThat(results.stream().mapToLong(r -> r.value().getMessageCount()).sum()).isEqualTo(400);
      Set<String> aggregateIds = new HashSet<>();
      for (ConsumerRecord<String, WindowResult> result : results) {
        String traceparent =
            new String(result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
        ReceivedSpan aggregate =
            receiver
                .awaitSpans(
                    span ->
                        span.traceId().equals(result.value().getTraceId())
                            && span.parentSpanId().isEmpty(),
                    1,
                    Duration.ofSeconds(20))
                .get(0);
        assertThat(traceparent)
            .isEqualTo("00-" + aggregate.traceId() + "-" + aggregate.spanId() + "-01");
        aggregateIds.add(aggregate.spanId());
      }
      assertThat(aggregateIds).hasSize(15);

      Map<String, Integer> linkCounts = new HashMap<>();
      for (ReceivedSpan span : receiver.spans()) {
        assertThat(span.droppedLinksCount()).isZero();
        assertThat(span.links()).hasSizeLessThanOrEqualTo(32);
        for (ReceivedSpan.Link link : span.links()) {
          linkCounts.merge(link.spanId(), 1, Integer::sum);
          assertThat(link.attributes()).containsEntry("messaging.destination.name", "events");
        }
      }
      assertThat(linkCounts.keySet()).containsAll(producerSpans.keySet());
      assertThat(linkCounts.values()).allMatch(count -> count == 1);
    }
  }

  private static void awaitCounted(InMemoryMetricReader metrics, long expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long counted = 0;
    while (System.nanoTime() < deadline) {
      counted =
          metrics.collectAllMetrics().stream()
              .filter(metric -> metric.getName().equals("correlator.records"))
              .flatMap(metric -> metric.getLongSumData().getPoints().stream())
              .mapToLong(point -> point.getValue())
              .sum();
      if (counted >= expected) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling a counter in another thread, not timing a result
    }
    throw new AssertionError("only " + counted + " of " + expected + " records reached a window");
  }

  private static List<ConsumerRecord<String, WindowResult>> readResults(
      EmbeddedKafka kafka, int tenantWindows) {
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "it-reader",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, WindowResult>> results = new ArrayList<>();
    try (KafkaConsumer<String, WindowResult> consumer =
        new KafkaConsumer<>(
            props, new StringDeserializer(), AvroSerde.of(WindowResult.class).deserializer())) {
      consumer.subscribe(List.of("results"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline
          && results.stream().filter(r -> r.key().startsWith("tenant-")).count() < tenantWindows) {
        consumer.poll(Duration.ofMillis(250)).forEach(results::add);
      }
    }
    return results.stream().filter(r -> r.key().startsWith("tenant-")).toList();
  }
}
