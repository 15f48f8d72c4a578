package io.linkcorrelator.streams;

import static io.linkcorrelator.streams.LinkedHarness.T0;
import static io.linkcorrelator.streams.LinkedHarness.spanId;
import static io.linkcorrelator.streams.LinkedHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Function;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.TimeWindow;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library API on TopologyTestDriver: count, reduce and aggregate over a user's topology, a
 * re-key with groupBy, the output headers, chunking, and bad input (a user's serde that fails, late
 * records) dead-lettered while the stream goes on. The DSL comparison over every window type is
 * {@link DslDifferentialTest}.
 */
class LinkedAggregationsTest {

  private static final String INPUT = "orders";
  private static final String DEAD_LETTERS = "dead-letters";
  private static final TimeWindows TEN_SECONDS =
      TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(2));

  @TempDir Path stateDir;

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk =
      OpenTelemetrySdk.builder()
          .setTracerProvider(
              SdkTracerProvider.builder()
                  .setIdGenerator(DeterministicIds.idGenerator())
                  .addSpanProcessor(SimpleSpanProcessor.create(spans))
                  .build())
          .build();
  private final List<Record<Windowed<String>, Object>> results = new ArrayList<>();
  private TopologyTestDriver driver;

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
    sdk.close();
  }

  /** Collects the results, headers included. */
  private final class Collect implements Processor<Windowed<String>, Object, Void, Void> {
    @Override
    public void process(Record<Windowed<String>, Object> record) {
      results.add(record);
    }
  }

  /** Builds the user's topology over a stream of String orders, on a driver. */
  @SuppressWarnings("unchecked")
  private TestInputTopic<String, String> run(
      Function<KStream<String, String>, KStream<Windowed<String>, ?>> topology, Properties extra) {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<Windowed<String>, Object> out =
        (KStream<Windowed<String>, Object>)
            topology.apply(builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.String())));
    out.process(Collect::new);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "api");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, DEAD_LETTERS);
    props.putAll(extra);
    driver = new TopologyTestDriver(builder.build(), props);
    return driver.createInputTopic(INPUT, new StringSerializer(), new StringSerializer());
  }

  private TestInputTopic<String, String> run(
      Function<KStream<String, String>, KStream<Windowed<String>, ?>> topology) {
    return run(topology, new Properties());
  }

  private LinkedAggregations linked() {
    return LinkedAggregations.with(sdk);
  }

  private static void send(
      TestInputTopic<String, String> input, String key, String value, long time, Headers headers) {
    input.pipeInput(new TestRecord<>(key, value, headers, time));
  }

  private List<Integer> linkedIds(Record<Windowed<String>, Object> result) {
    String traceId = traceparent(result).split("-")[1];
    return spans.getFinishedSpanItems().stream()
        .filter(span -> span.getTraceId().equals(traceId))
        .flatMap(span -> span.getLinks().stream())
        .map(link -> (int) (Long.parseLong(link.getSpanContext().getSpanId(), 16) - 0x2000_0000L))
        .sorted()
        .toList();
  }

  private static String traceparent(Record<?, ?> result) {
    return new String(result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
  }

  private List<String> deadLetterReasons() {
    return driver
        .createOutputTopic(DEAD_LETTERS, new StringDeserializer(), new StringDeserializer())
        .readRecordsToList()
        .stream()
        .map(
            letter ->
                new String(
                    letter.headers().lastHeader("__streams.errors.message").value(),
                    StandardCharsets.UTF_8))
        .toList();
  }

  @Test
  void countEmitsOneFinalResultPerWindowAtCloseLinkedToEveryRecordWithItsContextInTheHeaders() {
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .count(Named.as("orders-per-customer")));
    send(input, "alice", "a1", T0 + 1_000, traced(1));
    send(input, "bob", "b1", T0 + 2_000, traced(2));
    send(input, "alice", "a2", T0 + 9_000, traced(3));
    assertThat(results).as("nothing before the window closes").isEmpty();

    send(input, "carol", "c1", T0 + 12_000, traced(4)); // stream time at end + grace: closes

    results.sort(java.util.Comparator.comparing(result -> result.key().key()));
    assertThat(results)
        .extracting(Record::key)
        .containsExactly(
            new Windowed<>("alice", new TimeWindow(T0, T0 + 10_000)),
            new Windowed<>("bob", new TimeWindow(T0, T0 + 10_000)));
    assertThat(results).extracting(Record::value).containsExactly(2L, 1L);
    assertThat(linkedIds(results.get(0))).containsExactly(1, 3);
    assertThat(linkedIds(results.get(1))).containsExactly(2);
    SpanData aggregate =
        spans.getFinishedSpanItems().stream()
            .filter(span -> span.getTraceId().equals(traceparent(results.get(0)).split("-")[1]))
            .findFirst()
            .orElseThrow();
    assertThat(traceparent(results.get(0)))
        .as("the headers carry the aggregate span")
        .isEqualTo("00-" + aggregate.getTraceId() + "-" + aggregate.getSpanId() + "-01");
    assertThat(aggregate.getName()).isEqualTo("aggregate orders-per-customer");
    assertThat(aggregate.getAttributes().get(AttributeKey.stringKey("correlator.group_key")))
        .isEqualTo("alice");
    assertThat(aggregate.getAttributes().get(AttributeKey.longKey("messaging.batch.message_count")))
        .isEqualTo(2L);
    assertThat(aggregate.getLinks())
        .extracting(
            link -> link.getAttributes().get(AttributeKey.longKey("messaging.kafka.offset")))
        .as("links name the original records' offsets")
        .containsExactly(0L, 2L);
    assertThat(aggregate.getLinks().get(0).getSpanContext().getSpanId()).isEqualTo(spanId(1));
  }

  @Test
  void reduceFoldsTheValuesInEventTimeOrderWhateverTheirArrivalOrder() {
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .reduce((left, right) -> left + right, Named.as("letters")));
    send(input, "k", "c", T0 + 3_000, traced(3));
    send(input, "k", "a", T0 + 1_000, traced(1)); // out of order, within grace
    send(input, "k", "b", T0 + 2_000, traced(2));
    send(input, "flush", "x", T0 + 60_000, traced(9));

    assertThat(results).extracting(Record::value).containsExactly("abc");
    assertThat(linkedIds(results.get(0))).containsExactly(1, 2, 3);
  }

  @Test
  void aggregateFoldsIntoTheUsersOwnTypeAtCloseAtTheWindowsLatestEventTime() {
    record Basket(int items, String skus) {}
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .aggregate(
                        () -> new Basket(0, ""),
                        (customer, sku, basket) ->
                            new Basket(basket.items() + 1, basket.skus() + sku + ";"),
                        Named.as("baskets")));
    send(input, "alice", "apple", T0 + 1_000, traced(1));
    send(input, "alice", "pear", T0 + 4_000, traced(2));
    send(input, "flush", "x", T0 + 60_000, traced(9));

    assertThat(results).extracting(Record::value).containsExactly(new Basket(2, "apple;pear;"));
    assertThat(results.get(0).timestamp()).isEqualTo(T0 + 4_000);
  }

  @Test
  void aLinkedAggregatorSeesEachRecordsEventTimeOriginAndWhetherItIsLinked() {
    // A value serde that writes nothing: the aggregation keeps no value, the aggregator still runs
    // once per record with the value read back from zero bytes.
    Serde<String> nothing =
        Serdes.serdeFrom((topic, value) -> new byte[0], (topic, bytes) -> "v" + bytes.length);
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupByKey(orders, Grouped.with(Serdes.String(), nothing))
                    .windowedBy(TEN_SECONDS)
                    .aggregate(
                        () -> "",
                        (customer, value, record, seen) ->
                            seen
                                + String.join(
                                    ":",
                                    value,
                                    record.topic(),
                                    String.valueOf(record.partition()),
                                    String.valueOf(record.offset()),
                                    String.valueOf(record.timestamp() - T0),
                                    record.linked() ? "linked" : "unlinked")
                                + ";",
                        Named.as("facts")));
    send(input, "alice", "apple", T0 + 4_000, traced(1));
    send(input, "alice", "pear", T0 + 1_000, new RecordHeaders()); // no trace context
    send(input, "flush", "x", T0 + 60_000, traced(9));

    assertThat(results)
        .extracting(Record::value)
        .containsExactly("v0:orders:0:1:1000:unlinked;v0:orders:0:0:4000:linked;");
    assertThat(linkedIds(results.get(0))).containsExactly(1);
  }

  @Test
  void groupByReKeysAcrossARepartitionAndStillLinksTheOriginalRecords() {
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupBy(
                        orders,
                        (orderId, customer) -> customer, // the value names the customer
                        Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .count(Named.as("per-customer")));
    send(input, "order-1", "alice", T0 + 1_000, traced(1));
    send(input, "order-2", "bob", T0 + 2_000, traced(2));
    send(input, "order-3", "alice", T0 + 3_000, traced(3));
    send(input, "order-4", "carol", T0 + 60_000, traced(4));
    // On a first start, windows wait for every upstream partition to report, or to be idle.
    driver.advanceWallClockTime(LinkedAggregations.DEFAULT_PARTITION_IDLE);

    results.sort(java.util.Comparator.comparing(result -> result.key().key()));
    assertThat(results)
        .extracting(result -> result.key().key() + "=" + result.value())
        .containsExactly("alice=2", "bob=1");
    assertThat(linkedIds(results.get(0))).containsExactly(1, 3);
    List<LinkData> links =
        spans.getFinishedSpanItems().stream()
            .filter(span -> span.getTraceId().equals(traceparent(results.get(0)).split("-")[1]))
            .flatMap(span -> span.getLinks().stream())
            .toList();
    assertThat(links)
        .extracting(
            link -> link.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")))
        .as("links name the input topic, never the repartition topic")
        .containsOnly(INPUT);
    assertThat(driver.producedTopicNames()).contains("api-per-customer-repartition");
  }

  @Test
  void linksBeyondOneSpansBudgetGoIntoChunkSpansEveryRecordLinked() {
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .withMaxLinksPerSpan(2)
                    .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .count(Named.as("chunked")));
    for (int i = 1; i <= 5; i++) {
      send(input, "hot", "v", T0 + i, traced(i));
    }
    send(input, "flush", "x", T0 + 60_000, traced(9));

    assertThat(results).extracting(Record::value).containsExactly(5L);
    assertThat(linkedIds(results.get(0))).containsExactly(1, 2, 3, 4, 5);
    assertThat(
            spans.getFinishedSpanItems().stream()
                .filter(span -> span.getTraceId().equals(traceparent(results.get(0)).split("-")[1]))
                .map(span -> span.getLinks().size()))
        .allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(2))
        .hasSize(3);
  }

  @Test
  void aValueTheUsersSerdeCannotSerializeIsDeadLetteredAndTheStreamGoesOn() {
    Serde<String> picky =
        Serdes.serdeFrom(
            (topic, value) -> {
              if (value.equals("poison")) {
                throw new SerializationException("cannot serialize poison");
              }
              return value.getBytes(StandardCharsets.UTF_8);
            },
            (topic, bytes) -> new String(bytes, StandardCharsets.UTF_8));
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupByKey(orders, Grouped.with(Serdes.String(), picky))
                    .windowedBy(TEN_SECONDS)
                    .reduce((left, right) -> left + "+" + right, Named.as("picky")));
    send(input, "k", "a", T0 + 1_000, traced(1));
    send(input, "k", "poison", T0 + 2_000, traced(2));
    send(input, "k", "b", T0 + 3_000, traced(3));
    send(input, "flush", "x", T0 + 60_000, traced(9));

    assertThat(results).extracting(Record::value).containsExactly("a+b");
    assertThat(linkedIds(results.get(0))).containsExactly(1, 3);
    assertThat(deadLetterReasons())
        .singleElement()
        .satisfies(
            reason ->
                assertThat(reason)
                    .startsWith("invalid_value: the value serde failed")
                    .contains("cannot serialize poison"));
  }

  @Test
  void lateRecordsAndNullKeysAreDeadLetteredNeverCounted() {
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .count(Named.as("strict")));
    send(input, "k", "a", T0 + 1_000, traced(1));
    send(input, "k", "b", T0 + 12_000, traced(2)); // closes [T0, T0 + 10 s)
    send(input, "k", "late", T0 + 5_000, traced(3));
    send(input, null, "no key", T0 + 12_000, traced(4));

    assertThat(results).extracting(Record::value).containsExactly(1L);
    assertThat(deadLetterReasons())
        .satisfiesExactly(
            late -> assertThat(late).startsWith("late:"),
            noKey -> assertThat(noKey).isEqualTo("invalid_key: no group key (null record key)"));
  }

  @Test
  void anAggregationFailsAtStartWhenTheExceptionHandlerWouldStopTheStreamOnABadRecord() {
    Properties failing = new Properties();
    failing.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
        org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler.class.getName());
    assertThatThrownBy(
            () ->
                run(
                    orders ->
                        linked()
                            .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                            .windowedBy(TEN_SECONDS)
                            .count(Named.as("unguarded")),
                    failing))
        .isInstanceOf(StreamsException.class)
        .rootCause()
        .hasMessageContaining("linked aggregation unguarded")
        .hasMessageContaining("processing.exception.handler");
  }

  @Test
  void invalidOptionsFailWhenSetAndNameTheOption() {
    assertThatThrownBy(() -> linked().withMaxLinksPerSpan(0))
        .hasMessageStartingWith("withMaxLinksPerSpan must be >= 1");
    assertThatThrownBy(() -> linked().withMaxLinksJsonChars(10))
        .hasMessageStartingWith("withMaxLinksJsonChars must be >= 2000");
    assertThatThrownBy(() -> linked().withExportFlushTimeout(Duration.ofMillis(-1)))
        .hasMessageStartingWith("withExportFlushTimeout must be >= 0");
    assertThatThrownBy(() -> linked().withPartitionIdle(Duration.ZERO))
        .hasMessageStartingWith("withPartitionIdle must be >= 1");
    assertThatThrownBy(() -> linked().withInjectFormats("zipkin"))
        .hasMessageStartingWith("withInjectFormats must be a comma-separated list of");
    assertThatThrownBy(() -> linked().withExtractFormats("b3,nope"))
        .hasMessageStartingWith("withExtractFormats must be a comma-separated list of");
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, String> orders = builder.stream(INPUT);
    assertThatThrownBy(
            () ->
                linked()
                    .withPartitionIdle(Duration.ofSeconds(10))
                    .withWindowIdleClose(Duration.ofSeconds(5))
                    .groupBy(orders, (k, v) -> v, Grouped.with(Serdes.String(), Serdes.String())))
        .hasMessageStartingWith("withWindowIdleClose (5000 ms) must be 0 or longer than");
    assertThatThrownBy(() -> linked().groupByKey(orders, Grouped.as("no-serdes")))
        .hasMessageStartingWith("grouped needs both serdes");
  }

  @Test
  void theInjectedFormatIsTheConfiguredOne() {
    TestInputTopic<String, String> input =
        run(
            orders ->
                linked()
                    .withInjectFormats("b3")
                    .groupByKey(orders, Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TEN_SECONDS)
                    .count(Named.as("b3-out")));
    send(input, "k", "a", T0 + 1_000, traced(1));
    send(input, "flush", "x", T0 + 60_000, traced(9));

    assertThat(results).hasSize(1);
    assertThat(results.get(0).headers().lastHeader("b3")).isNotNull();
    assertThat(results.get(0).headers().lastHeader("traceparent")).isNull();
  }
}
