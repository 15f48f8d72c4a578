package io.linkcorrelator.streams;

import static io.linkcorrelator.streams.WrappedTopology.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.streams.LinkedProcessorWrapperTest.Shape;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyConfig;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The wrapper on a real broker under exactly-once, exporting real OTLP to the receiver, for each
 * window type: the results are those of the same topology unwrapped (on TopologyTestDriver), each
 * result's traceparent names a received aggregate span, and that span with its chunks links every
 * record the result counts.
 */
class LinkedProcessorWrapperIT {

  private static final int RECORDS = 90;
  @AutoClose private static final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private static final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path stateDir;

  /** Record {@code i}: key, event time (in order, three keys, pauses that end sessions). */
  private static String key(int i) {
    return "k" + i % 3;
  }

  private static long time(int i) {
    return T0 + i * 400L + (i / 30) * 20_000L;
  }

  @ParameterizedTest
  @EnumSource(
      value = Shape.class,
      names = {"TUMBLING_ON_CLOSE", "HOPPING_SUPPRESSED", "SLIDING_ON_CLOSE", "SESSION_SUPPRESSED"})
  void linksEveryContributorOfEachResultThroughARealBrokerUnderExactlyOnce(Shape shape)
      throws Exception {
    String name = shape.name().toLowerCase(Locale.ROOT).replace('_', '-');
    String in = "in-" + name;
    String out = "out-" + name;
    kafka.createTopic(in, 1);
    kafka.createTopic(out, 1);
    List<String> expected = oracle(shape);

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "wrapped-" + name);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    // onWindowClose() emits closed windows at most once a second of wall clock, on a later record
    // (Kafka Streams' internal default): every closer arrives within that second here.
    props.put("__emit.interval.ms.kstreams.windowed.aggregation__", 0);
    props.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, LinkedProcessorWrapper.class);
    props.put(LinkedProcessorWrapper.LINKS_PER_SPAN_MAX_CONFIG, 8);
    SdkTracerProvider tracing =
        SdkTracerProvider.builder()
            .setIdGenerator(DeterministicIds.idGenerator())
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(receiver.httpTracesUrl())
                            .build())
                    .build())
            .build();
    try (OpenTelemetrySdk openTelemetry =
        OpenTelemetrySdk.builder().setTracerProvider(tracing).build()) {
      props.put(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, openTelemetry);
      StreamsBuilder builder = new StreamsBuilder(new TopologyConfig(new StreamsConfig(props)));
      shape.topology(in, out).accept(builder);
      try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
        streams.start();
        produce(in);
        List<ConsumerRecord<String, String>> results = read(out, expected.size());
        tracing.forceFlush().join(10, TimeUnit.SECONDS);

        assertThat(results.stream().map(r -> r.key() + "=" + r.value()).toList())
            .as("the results of the same topology without the wrapper")
            .containsExactlyElementsOf(expected);
        Set<String> linkedAnywhere = new HashSet<>();
        for (ConsumerRecord<String, String> result : results) {
          String[] traceparent =
              new String(result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8)
                  .split("-");
          List<ReceivedSpan> spans =
              receiver.awaitSpans(
                  span ->
                      span.traceId().equals(traceparent[1])
                          && (span.spanId().equals(traceparent[2])
                              || span.parentSpanId().equals(traceparent[2])),
                  1,
                  Duration.ofSeconds(30));
          assertThat(spans).anyMatch(span -> span.spanId().equals(traceparent[2]));
          Set<String> linked = new HashSet<>();
          for (ReceivedSpan span : spans) {
            assertThat(span.droppedLinksCount()).isZero();
            assertThat(span.links()).hasSizeLessThanOrEqualTo(8);
            span.links().forEach(link -> linked.add(link.spanId()));
          }
          assertThat(linked)
              .as("links of %s", result.key())
              .hasSize(Integer.parseInt(result.value()))
              .isSubsetOf(contributorsOf(result.key(), shape));
          linkedAnywhere.addAll(linked);
        }
        assertThat(linkedAnywhere).hasSizeGreaterThan(RECORDS / 2);
      }
    }
  }

  /** The same input through the same topology without the wrapper, on TopologyTestDriver. */
  private List<String> oracle(Shape shape) {
    try (WrappedTopology plain =
        new WrappedTopology(stateDir.resolve("oracle"), false, shape.topology())) {
      for (int i = 0; i < RECORDS; i++) {
        plain.send(key(i), time(i), i);
      }
      for (int k = 0; k < 3; k++) {
        plain.send("k" + k, time(RECORDS) + 600_000, RECORDS + k);
      }
      return plain.results().stream().map(r -> r.key() + "=" + r.value()).toList();
    }
  }

  /** Producer span ids of the records of the result's key whose time is in its window. */
  private static Set<String> contributorsOf(String window, Shape shape) {
    String key = window.substring(0, window.indexOf('@'));
    String[] bounds = window.substring(window.indexOf('@') + 1).split("/");
    long start = Long.parseLong(bounds[0]);
    long end = Long.parseLong(bounds[1]);
    Set<String> spans = new HashSet<>();
    for (int i = 0; i < RECORDS; i++) {
      long t = time(i);
      if (key(i).equals(key) && t >= start && (shape.inclusiveEnd() ? t <= end : t < end)) {
        spans.add(WrappedTopology.producerSpan(i).getSpanId());
      }
    }
    return spans;
  }

  private static void produce(String topic) {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
            new StringSerializer(),
            new StringSerializer())) {
      for (int i = 0; i <= RECORDS + 2; i++) {
        int index = i;
        String key = i < RECORDS ? key(i) : "k" + (i - RECORDS);
        long time = i < RECORDS ? time(i) : time(RECORDS) + 600_000;
        ProducerRecord<String, String> record =
            new ProducerRecord<>(topic, null, time, key, "v" + index);
        WrappedTopology.traceparent(index).forEach(h -> record.headers().add(h));
        producer.send(record);
      }
    }
  }

  private static List<ConsumerRecord<String, String>> read(String topic, int count) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, String>> results = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && results.size() < count) {
        consumer.poll(Duration.ofMillis(250)).forEach(results::add);
      }
    }
    return results;
  }
}
