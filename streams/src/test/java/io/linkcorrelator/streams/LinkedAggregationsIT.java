package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
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
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.BytesDeserializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The library API on the embedded broker under {@code exactly_once_v2}, for each of the four window
 * types, exporting real OTLP to the embedded receiver: records re-keyed across a repartition from
 * two input partitions; every record is linked by the aggregate spans of the windows that count it,
 * every window's count equals its links, every link names a record of that key within the window,
 * and every result carries its aggregate span's context in its headers.
 */
class LinkedAggregationsIT {

  private static final String INPUT = "events";
  private static final String OUTPUT = "counts";
  private static final Duration GRACE = Duration.ofSeconds(1);

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();

  @TempDir Path stateDir;

  /** One record sent: key, event time, its producer span id. */
  private record Sent(String key, long time, String spanId) {}

  static Stream<Arguments> windowTypes() {
    List<Arguments> cases = new ArrayList<>();
    cases.add(
        Arguments.of(
            "tumbling",
            (Function<LinkedGroupedStream<String, String>, LinkedWindowedStream<String, String>>)
                grouped ->
                    grouped.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(2), GRACE))));
    cases.add(
        Arguments.of(
            "hopping",
            (Function<LinkedGroupedStream<String, String>, LinkedWindowedStream<String, String>>)
                grouped ->
                    grouped.windowedBy(
                        TimeWindows.ofSizeAndGrace(Duration.ofSeconds(2), GRACE)
                            .advanceBy(Duration.ofMillis(500)))));
    cases.add(
        Arguments.of(
            "sliding",
            (Function<LinkedGroupedStream<String, String>, LinkedWindowedStream<String, String>>)
                grouped ->
                    grouped.windowedBy(
                        SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(1), GRACE))));
    cases.add(
        Arguments.of(
            "session",
            (Function<LinkedGroupedStream<String, String>, LinkedWindowedStream<String, String>>)
                grouped ->
                    grouped.windowedBy(
                        SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(300), GRACE))));
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("windowTypes")
  void everyRecordIsLinkedByTheWindowsThatCountItUnderExactlyOnce(
      String type,
      Function<LinkedGroupedStream<String, String>, LinkedWindowedStream<String, String>> windows)
      throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start();
        OpenTelemetrySdk sdk =
            OpenTelemetrySdk.builder()
                .setTracerProvider(
                    SdkTracerProvider.builder()
                        .setIdGenerator(DeterministicIds.idGenerator())
                        .addSpanProcessor(
                            BatchSpanProcessor.builder(
                                    OtlpHttpSpanExporter.builder()
                                        .setEndpoint(receiver.httpTracesUrl())
                                        .build())
                                .build())
                        .build())
                .build()) {
      kafka.createTopic(INPUT, 2);
      kafka.createTopic(OUTPUT, 1);
      long base = System.currentTimeMillis() - 120_000;
      List<Sent> sent = new ArrayList<>();
      for (int i = 1; i <= 80; i++) {
        sent.add(new Sent("k" + i % 3, base + i * 70L, LinkedHarness.spanId(i)));
      }

      StreamsBuilder builder = new StreamsBuilder();
      KStream<String, String> events =
          builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.String()));
      windows
          .apply(
              LinkedAggregations.with(sdk)
                  .groupBy(
                      events, (id, key) -> key, Grouped.with(Serdes.String(), Serdes.String())))
          .count(Named.as("counts"))
          .map((Windowed<String> w, Long count) -> KeyValue.pair(name(w), count))
          .to(OUTPUT, Produced.with(Serdes.String(), Serdes.Long()));
      Properties props = new Properties();
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "linked-" + type);
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
      props.put(
          StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
          DeadLetterHandler.class.getName());
      props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
      props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
      try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
        streams.start();
        produce(kafka, sent, base + 60_000);

        // Read committed results until every record is linked by one of them (or time is up),
        // checking each result as it arrives.
        Set<String> all = new HashSet<>(sent.stream().map(Sent::spanId).toList());
        Set<String> linkedAnywhere = new HashSet<>();
        Set<String> windowsSeen = new HashSet<>();
        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, "linked-it");
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, Long> consumer =
            new KafkaConsumer<>(consumerProps, new StringDeserializer(), new LongDeserializer())) {
          consumer.subscribe(List.of(OUTPUT));
          long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
          while (!linkedAnywhere.containsAll(all) && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, Long> result : consumer.poll(Duration.ofMillis(500))) {
              if (result.key().startsWith("closer@")) {
                continue;
              }
              assertThat(windowsSeen.add(result.key()))
                  .as("one result per window: %s", result.key())
                  .isTrue();
              linkedAnywhere.addAll(check(type, result, sent, receiver));
            }
          }
        }
        assertThat(linkedAnywhere).as("every record linked").containsAll(all);
      }
    }
  }

  @Test
  void aPageOfTheContributorLogReachesTheChangelogOnceAndHoldsTheEntriesOfACommitInterval()
      throws Exception {
    try (OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder().setIdGenerator(DeterministicIds.idGenerator()).build())
            .build()) {
      kafka.createTopic(INPUT, 2);
      kafka.createTopic(OUTPUT, 1);
      long base = System.currentTimeMillis() - 120_000;
      List<Sent> sent = new ArrayList<>();
      for (int i = 1; i <= 600; i++) {
        sent.add(new Sent("k" + i % 3, base + i * 10L, LinkedHarness.spanId(i)));
      }
      produce(kafka, sent, base + 60_000); // before the application starts: one burst

      StreamsBuilder builder = new StreamsBuilder();
      LinkedAggregations.with(sdk)
          .groupBy(
              builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.String())),
              (id, key) -> key,
              Grouped.with(Serdes.String(), Serdes.String()))
          .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(2), GRACE))
          .count(Named.as("counts"))
          .map((Windowed<String> w, Long count) -> KeyValue.pair(name(w), count))
          .to(OUTPUT, Produced.with(Serdes.String(), Serdes.Long()));
      Properties props = new Properties();
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "linked-pages");
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
      props.put(
          StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
          DeadLetterHandler.class.getName());
      props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
      props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
      long counted = 0;
      try (KafkaStreams streams = new KafkaStreams(builder.build(), props);
          KafkaConsumer<String, Long> results =
              new KafkaConsumer<>(
                  consumerProps(kafka, "results"),
                  new StringDeserializer(),
                  new LongDeserializer())) {
        streams.start();
        results.subscribe(List.of(OUTPUT));
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (counted < sent.size() && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, Long> result : results.poll(Duration.ofMillis(500))) {
            counted += result.key().startsWith("closer@") ? 0 : result.value();
          }
        }
      }
      assertThat(counted).as("every record counted").isEqualTo(sent.size());

      Map<Bytes, Integer> writes = new HashMap<>();
      try (KafkaConsumer<Bytes, byte[]> changelog =
          new KafkaConsumer<>(
              consumerProps(kafka, "changelog"),
              new BytesDeserializer(),
              new ByteArrayDeserializer())) {
        String topic = "linked-pages-counts-contributors-changelog";
        List<TopicPartition> partitions =
            changelog.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        changelog.assign(partitions);
        changelog.seekToBeginning(partitions);
        Map<TopicPartition, Long> ends = changelog.endOffsets(partitions);
        while (partitions.stream().anyMatch(p -> changelog.position(p) < ends.get(p))) {
          for (ConsumerRecord<Bytes, byte[]> page : changelog.poll(Duration.ofMillis(500))) {
            if (page.value() != null) {
              writes.merge(page.key(), 1, Integer::sum);
            }
          }
        }
      }
      assertThat(writes.values()).as("writes of each page").isNotEmpty().containsOnly(1);
      assertThat(writes.size())
          .as("pages, for %d contributors read in one burst", sent.size() + 2)
          .isLessThan(sent.size() / 10);
    }
  }

  private static Properties consumerProps(EmbeddedKafka kafka, String group) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return props;
  }

  /** Checks one result's context and links; returns the span ids it links. */
  private static Set<String> check(
      String type, ConsumerRecord<String, Long> result, List<Sent> sent, OtlpReceiver receiver) {
    String[] traceparent =
        new String(result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8)
            .split("-");
    List<ReceivedSpan> spans =
        receiver.awaitSpans(
            span -> span.traceId().equals(traceparent[1]), 1, Duration.ofSeconds(30));
    assertThat(spans)
        .as("%s: the result's context is its aggregate span", result.key())
        .anySatisfy(span -> assertThat(span.spanId()).isEqualTo(traceparent[2]));
    String[] window = result.key().split("[@/]");
    long start = Long.parseLong(window[1]);
    long end = Long.parseLong(window[2]); // inclusive for sliding and session, as the DSL's
    boolean inclusive = type.equals("sliding") || type.equals("session");
    Set<String> expected = new HashSet<>();
    sent.stream()
        .filter(s -> s.key().equals(window[0]))
        .filter(s -> s.time() >= start && (inclusive ? s.time() <= end : s.time() < end))
        .forEach(s -> expected.add(s.spanId()));
    Set<String> linked = new HashSet<>();
    spans.stream().flatMap(span -> span.links().stream()).forEach(l -> linked.add(l.spanId()));
    assertThat(linked)
        .as("%s %s: the links are the records of its key within it", type, result.key())
        .isEqualTo(expected)
        .hasSize(result.value().intValue());
    return linked;
  }

  private static String name(Windowed<String> windowed) {
    return windowed.key() + "@" + windowed.window().start() + "/" + windowed.window().end();
  }

  private static void produce(EmbeddedKafka kafka, List<Sent> sent, long closeAll) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      int id = 0;
      for (Sent record : sent) {
        ProducerRecord<String, String> message =
            new ProducerRecord<>(INPUT, null, record.time(), "event-" + id++, record.key());
        message
            .headers()
            .add(
                "traceparent",
                ("00-" + LinkedHarness.traceId(id) + "-" + record.spanId() + "-01")
                    .getBytes(StandardCharsets.UTF_8));
        producer.send(message);
      }
      for (int partition = 0; partition < 2; partition++) {
        producer.send(new ProducerRecord<>(INPUT, partition, closeAll, "closer", "closer"));
      }
      producer.flush();
    }
  }
}
