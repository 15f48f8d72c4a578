package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.app.DslOracle.Event;
import io.linkcorrelator.app.DslOracle.Window;
import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.LinkedAggregations;
import io.linkcorrelator.streams.LinkedGroupedStream;
import io.linkcorrelator.streams.LinkedWindowedStream;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.kstream.internals.TimeWindow;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The oracle for window semantics is Kafka Streams' own DSL. The same random, out-of-order input
 * (several keys, jitter below and beyond the grace period, timestamps on a coarse grid so that
 * records land exactly on window boundaries) goes through {@code groupByKey().windowedBy(...)
 * .aggregate(...)} and through the correlator, each on its own TopologyTestDriver, and the DSL's
 * final state of every window must equal the correlator's one result for it:
 *
 * <ul>
 *   <li>the same set of (key, window start, window end, count, sum), where the DSL's inclusive
 *       sliding and session ends are turned into the correlator's exclusive ends (plus one
 *       millisecond); tumbling and hopping ends are exclusive in both;
 *   <li>each window's links are exactly the records the DSL aggregated into it;
 *   <li>the records the DSL counted in no window (dropped as late) are exactly those the correlator
 *       dead-lettered as {@code late}.
 * </ul>
 *
 * After the input, one record of another key far in the future closes every window in both.
 */
class DslDifferentialTest {

  private static final String INPUT = "events";
  private static final String FLUSH_KEY = "~flush";

  private static final WindowSpec SESSIONS_OF_500_MS =
      WindowSpec.session(Duration.ofMillis(500), Duration.ZERO);

  @TempDir Path stateDir;

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    List<WindowSpec> specs =
        List.of(
            WindowSpec.tumbling(Duration.ofMillis(1_000), Duration.ZERO),
            WindowSpec.tumbling(Duration.ofMillis(1_000), Duration.ofMillis(750)),
            WindowSpec.hopping(Duration.ofMillis(1_000), Duration.ofMillis(250), Duration.ZERO),
            WindowSpec.hopping(
                Duration.ofMillis(1_500), Duration.ofMillis(500), Duration.ofMillis(1_000)),
            WindowSpec.sliding(Duration.ofMillis(1_000), Duration.ZERO),
            WindowSpec.sliding(Duration.ofMillis(500), Duration.ofMillis(750)),
            WindowSpec.sliding(Duration.ofMillis(2_000), Duration.ofMillis(2_000)),
            WindowSpec.session(Duration.ofMillis(500), Duration.ZERO),
            WindowSpec.session(Duration.ofMillis(1_000), Duration.ofMillis(750)),
            WindowSpec.session(Duration.ofMillis(250), Duration.ofMillis(2_000)));
    for (WindowSpec spec : specs) {
      for (long seed = 1; seed <= 3; seed++) {
        cases.add(Arguments.of(spec, seed));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} seed {1}")
  @MethodSource("cases")
  void finalWindowsLinksAndLateRecordsEqualKafkaStreamsDsl(WindowSpec spec, long seed) {
    assertSameAsDsl(spec, events(new Random(seed), spec), this::correlator);
  }

  /**
   * The same through the library API, with a user's value type and serde and a user's aggregate
   * (count and sum) folded at close: the windowed keys are the DSL's own (sliding and session ends
   * inclusive, the same window classes), so the comparison turns them into exclusive ends exactly
   * as it does the DSL's.
   */
  @ParameterizedTest(name = "{0} seed {1}")
  @MethodSource("cases")
  void theLibraryApiGivesTheDslsFinalWindowsLinksAndLateRecords(WindowSpec spec, long seed) {
    assertSameAsDsl(spec, events(new Random(seed), spec), this::api);
  }

  /**
   * Sessions that once differed from the DSL (first seen on a broker, {@code
   * BrokerDifferentialIT}), each the smallest input that shows it, with gap 500 ms and no grace:
   * event times in ms after {@link CorrelatorHarness#T0}, in arrival order; key {@code k1} only
   * moves stream time.
   */
  static Stream<Arguments> sessionCases() {
    return Stream.of(
        Arguments.of(
            "a record reaching back over a session no longer merged does not take its records",
            // [0, 100] is no longer merged at stream time 600; 50 joins [550] over it
            List.of(k0(1, 0), k0(2, 100), k1(3, 600), k0(4, 550), k0(5, 50))),
        Arguments.of(
            "a session no longer merged inside a later one does not hide that one from a merge",
            // [100, 200] lies inside [90, 650]; 700 must merge with [90, 650] across it
            List.of(
                k0(1, 100), k0(2, 200), k1(3, 700), k0(4, 650), k0(5, 150), k0(6, 90), k0(7, 700))),
        Arguments.of(
            "a record at the horizon starts a session of its own beside one ending there",
            // [0, 100] is no longer merged at stream time 600, and a record at 100 is not late
            List.of(k0(1, 0), k0(2, 100), k1(3, 600), k0(4, 100))),
        Arguments.of(
            "a record at the horizon of a one-millisecond session joins its window",
            // the DSL replaces [100, 100]; the correlator keeps both records (see the README)
            List.of(k0(1, 100), k1(2, 600), k0(3, 100))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sessionCases")
  void sessionsHoldExactlyTheRecordsTheDslMergedIntoThem(String rule, List<Event> events) {
    assertSameAsDsl(SESSIONS_OF_500_MS, events, this::correlator);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sessionCases")
  void theLibraryApisSessionsHoldExactlyTheRecordsTheDslMergedIntoThem(
      String rule, List<Event> events) {
    assertSameAsDsl(SESSIONS_OF_500_MS, events, this::api);
  }

  private static Event k0(int id, long afterT0) {
    return new Event(id, "k0", T0 + afterT0, id);
  }

  private static Event k1(int id, long afterT0) {
    return new Event(id, "k1", T0 + afterT0, id);
  }

  private static Event flush(List<Event> events) {
    return new Event(
        0, FLUSH_KEY, events.stream().mapToLong(Event::time).max().orElseThrow() + 60_000, 0);
  }

  /** The correlator's application or the library API over the events, then the flush record. */
  @FunctionalInterface
  private interface Run {
    void run(
        WindowSpec spec,
        List<Event> events,
        Event flush,
        TreeSet<Window> windows,
        TreeSet<Integer> late);
  }

  /** Runs the events (then a flush record) through {@code run} and through the DSL; compares. */
  private void assertSameAsDsl(WindowSpec spec, List<Event> events, Run run) {
    Event flush = flush(events);
    TreeSet<Window> actual = new TreeSet<>();
    TreeSet<Integer> actualLate = new TreeSet<>();
    run.run(spec, events, flush, actual, actualLate);
    TreeSet<Window> expected = new TreeSet<>();
    TreeSet<Integer> expectedLate = new TreeSet<>();
    dsl(spec, events, flush, expected, expectedLate);
    DslOracle.assertSameAsDsl(
        spec, events, key -> events, expected, expectedLate, actual, actualLate);
  }

  /**
   * Keys k0..k3; event times advance by random steps on a 50 ms grid, and a quarter of the records
   * are sent late by a random jitter of up to twice the grace period plus the window size.
   */
  private static List<Event> events(Random random, WindowSpec spec) {
    long reach = spec.graceMs() * 2 + Math.max(spec.sizeMs(), spec.gapMs()) + 250;
    List<Event> events = new ArrayList<>();
    long time = T0;
    for (int id = 1; id <= 200; id++) {
      time += 50L * random.nextInt(8);
      long jitter = random.nextInt(4) == 0 ? 50L * random.nextInt((int) (reach / 50) + 1) : 0;
      events.add(new Event(id, "k" + random.nextInt(4), time - jitter, 1 + random.nextInt(100)));
    }
    return events;
  }

  private void dsl(
      WindowSpec spec,
      List<Event> events,
      Event flush,
      TreeSet<Window> windows,
      TreeSet<Integer> late) {
    StreamsBuilder builder = new StreamsBuilder();
    KGroupedStream<String, String> grouped =
        builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()));
    TreeMap<String, Window> emitted = new TreeMap<>();
    DslOracle.keepFinalState(
        DslOracle.aggregateIds(grouped, spec), spec, events, Set.of(FLUSH_KEY), emitted);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dsl-oracle");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.resolve("dsl").toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      TestInputTopic<String, String> input =
          driver.createInputTopic(INPUT, new StringSerializer(), new StringSerializer());
      for (Event event : events) {
        input.pipeInput(event.key(), Integer.toString(event.id()), event.time());
      }
      input.pipeInput(flush.key(), "0", flush.time());
    }
    windows.addAll(emitted.values());
    late.addAll(DslOracle.late(events, emitted.values()));
  }

  private void correlator(
      WindowSpec spec,
      List<Event> events,
      Event flush,
      TreeSet<Window> windows,
      TreeSet<Integer> late) {
    CorrelatorConfig config =
        CorrelatorConfig.builder()
            .applicationId("differential")
            .inputTopics(INPUT)
            .outputTopic("results")
            .window(spec)
            .valueSchema(Order.SCHEMA$)
            .aggregateField("amount")
            .aggregateFunctions("sum")
            .windowIdleCloseMs(0) // exactly the DSL: windows close only as stream time moves
            .build();
    AvroSerde<Order> orders = AvroSerde.of(Order.class);
    try (CorrelatorHarness harness =
        new CorrelatorHarness(config, stateDir.resolve("correlator"))) {
      for (Event event : List.copyOf(appended(events, flush))) {
        Order order =
            Order.newBuilder()
                .setOrderId(Integer.toString(event.id()))
                .setCustomerId(event.key())
                .setAmount(event.amount())
                .build();
        harness.send(
            INPUT,
            event.key(),
            orders.serialize(INPUT, order),
            event.time(),
            CorrelatorHarness.traced(event.id()));
      }
      for (TestRecord<String, WindowResult> record : harness.results()) {
        WindowResult result = record.value();
        if (record.key().equals(FLUSH_KEY)) {
          continue;
        }
        Window window =
            DslOracle.linkedWindow(
                record.key(),
                result,
                harness.spans().stream()
                    .filter(span -> span.getTraceId().equals(result.getTraceId()))
                    .flatMap(span -> span.getLinks().stream())
                    .map(link -> link.getSpanContext().getSpanId()),
                events,
                "");
        assertThat(windows.add(window)).as("one result per window: %s", window).isTrue();
      }
      harness
          .driver
          .createOutputTopic(
              CorrelatorHarness.DEAD_LETTERS, new StringDeserializer(), new ByteArrayDeserializer())
          .readRecordsToList()
          .stream()
          .filter(
              letter ->
                  new String(
                          letter.headers().lastHeader("__streams.errors.message").value(),
                          StandardCharsets.UTF_8)
                      .startsWith("late:"))
          .map(letter -> Integer.valueOf(orders.deserialize(INPUT, letter.value()).getOrderId()))
          .forEach(late::add);
    }
  }

  /** A user's value type, with its own serde: the event's id and amount. */
  private record Amount(int id, int amount) {}

  /** A user's aggregate: count and sum. It needs no serde: it is folded at close, never stored. */
  private record Tally(long count, long sum) {}

  private static final Serde<Amount> AMOUNTS =
      Serdes.serdeFrom(
          (topic, amount) ->
              ByteBuffer.allocate(8).putInt(amount.id()).putInt(amount.amount()).array(),
          (topic, bytes) -> {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            return new Amount(in.getInt(), in.getInt());
          });

  /** Collects what reaches it, headers included. */
  private static final class Collect<K, V> implements Processor<K, V, Void, Void> {
    private final List<Record<K, V>> records;

    Collect(List<Record<K, V>> records) {
      this.records = records;
    }

    @Override
    public void process(Record<K, V> record) {
      records.add(record);
    }
  }

  private void api(
      WindowSpec spec,
      List<Event> events,
      Event flush,
      TreeSet<Window> windows,
      TreeSet<Integer> late) {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    List<Record<Windowed<String>, Tally>> results = new ArrayList<>();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "api-differential");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.resolve("api").toString());
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead-letters");
    try (OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setIdGenerator(DeterministicIds.idGenerator())
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build()) {
      StreamsBuilder builder = new StreamsBuilder();
      KStream<String, Amount> input =
          builder.stream(INPUT, Consumed.with(Serdes.String(), AMOUNTS));
      LinkedGroupedStream<String, Amount> grouped =
          LinkedAggregations.with(sdk)
              .withWindowIdleClose(Duration.ZERO) // exactly the DSL
              .groupByKey(input, Grouped.with(Serdes.String(), AMOUNTS));
      Duration grace = Duration.ofMillis(spec.graceMs());
      LinkedWindowedStream<String, Amount> windowed =
          switch (spec.type()) {
            case TUMBLING, HOPPING ->
                grouped.windowedBy(
                    TimeWindows.ofSizeAndGrace(Duration.ofMillis(spec.sizeMs()), grace)
                        .advanceBy(Duration.ofMillis(spec.advanceMs())));
            case SLIDING ->
                grouped.windowedBy(
                    SlidingWindows.ofTimeDifferenceAndGrace(
                        Duration.ofMillis(spec.sizeMs() - 1), grace));
            case SESSION ->
                grouped.windowedBy(
                    SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(spec.gapMs()), grace));
            default -> throw new IllegalArgumentException(spec.toString());
          };
      windowed
          .aggregate(
              () -> new Tally(0, 0),
              (key, amount, tally) -> new Tally(tally.count() + 1, tally.sum() + amount.amount()),
              Named.as("tally"))
          .process(() -> new Collect<>(results));
      try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
        TestInputTopic<String, Amount> topic =
            driver.createInputTopic(INPUT, new StringSerializer(), AMOUNTS.serializer());
        for (Event event : appended(events, flush)) {
          topic.pipeInput(
              new TestRecord<>(
                  event.key(),
                  new Amount(event.id(), event.amount()),
                  CorrelatorHarness.traced(event.id()),
                  event.time()));
        }
        driver
            .createOutputTopic("dead-letters", new StringDeserializer(), AMOUNTS.deserializer())
            .readRecordsToList()
            .stream()
            .filter(
                letter ->
                    new String(
                            letter.headers().lastHeader("__streams.errors.message").value(),
                            StandardCharsets.UTF_8)
                        .startsWith("late:"))
            .map(letter -> letter.value().id())
            .forEach(late::add);
      }
      collect(spec, events, results, spans.getFinishedSpanItems(), windows);
    }
  }

  /** The API's results as windows with their links; the SDK's spans read before it closes. */
  private static void collect(
      WindowSpec spec,
      List<Event> events,
      List<Record<Windowed<String>, Tally>> results,
      List<SpanData> spans,
      TreeSet<Window> windows) {
    long endOffset = spec.type() == WindowType.SLIDING || spec.type() == WindowType.SESSION ? 1 : 0;
    Class<?> windowClass =
        spec.type() == WindowType.SESSION ? SessionWindow.class : TimeWindow.class;
    for (Record<Windowed<String>, Tally> record : results) {
      Windowed<String> windowed = record.key();
      if (windowed.key().equals(FLUSH_KEY)) {
        continue;
      }
      assertThat(windowed.window()).as("the DSL's window class").isInstanceOf(windowClass);
      String traceparent =
          new String(record.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
      String traceId = traceparent.split("-")[1];
      List<Integer> linked =
          spans.stream()
              .filter(span -> span.getTraceId().equals(traceId))
              .flatMap(span -> span.getLinks().stream())
              .map(LinkData::getSpanContext)
              .map(context -> (int) (Long.parseLong(context.getSpanId(), 16) - 0x2000_0000L))
              .sorted()
              .toList();
      Window window =
          DslOracle.window(
              windowed.key(),
              windowed.window().start(),
              windowed.window().end() + endOffset,
              linked,
              events);
      assertThat(record.value())
          .as("the user's aggregate of %s", window)
          .isEqualTo(new Tally(window.count(), window.sum()));
      assertThat(windows.add(window)).as("one result per window: %s", window).isTrue();
    }
  }

  private static List<Event> appended(List<Event> events, Event last) {
    List<Event> all = new ArrayList<>(events);
    all.add(last);
    return all;
  }
}
