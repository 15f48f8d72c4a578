package io.linkcorrelator.streams;

import static io.linkcorrelator.streams.WrappedTopology.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.TopologyException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** An unchanged DSL topology, linked by {@link LinkedProcessorWrapper} alone. */
class LinkedProcessorWrapperTest {

  private static final Duration SIZE = Duration.ofSeconds(10);
  private static final Duration GRACE = Duration.ofSeconds(2);

  @TempDir Path stateDir;

  /** The window types, each a final-results shape the wrapper links. */
  enum Shape {
    TUMBLING_ON_CLOSE,
    HOPPING_ON_CLOSE,
    SLIDING_ON_CLOSE,
    SESSION_ON_CLOSE,
    TUMBLING_SUPPRESSED,
    HOPPING_SUPPRESSED,
    SLIDING_SUPPRESSED,
    SESSION_SUPPRESSED;

    boolean suppressed() {
      return name().endsWith("SUPPRESSED");
    }

    /** Whether the window's end is its last millisecond (sliding, session) or just after it. */
    boolean inclusiveEnd() {
      return name().startsWith("SLIDING") || name().startsWith("SESSION");
    }

    /**
     * Input for this shape. Sliding windows get records at most the grace period behind: Kafka
     * Streams computes a new sliding window from its neighbours' aggregates and can leave out a
     * record that came too late for its own window though its time is in the new one, which the
     * wrapper then links (README: "Or: link an existing topology by configuration").
     */
    List<Sent> traffic(long seed) {
      return LinkedProcessorWrapperTest.traffic(
          seed, name().startsWith("SLIDING") ? (int) GRACE.toMillis() : 6_000);
    }

    Consumer<StreamsBuilder> topology() {
      return topology("in", "out");
    }

    /** A user's unchanged DSL code: count per key and window, results as text to {@code out}. */
    Consumer<StreamsBuilder> topology(String in, String out) {
      return builder -> {
        KGroupedStream<String, String> grouped =
            builder.stream(in, Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
        EmitStrategy emit =
            suppressed() ? EmitStrategy.onWindowUpdate() : EmitStrategy.onWindowClose();
        KTable<Windowed<String>, Long> counts =
            switch (name().substring(0, name().indexOf('_'))) {
              case "TUMBLING" ->
                  grouped
                      .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE))
                      .emitStrategy(emit)
                      .count();
              case "HOPPING" ->
                  grouped
                      .windowedBy(
                          TimeWindows.ofSizeAndGrace(SIZE, GRACE).advanceBy(Duration.ofSeconds(5)))
                      .emitStrategy(emit)
                      .count();
              case "SLIDING" ->
                  grouped
                      .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(SIZE, GRACE))
                      .emitStrategy(emit)
                      .count();
              default ->
                  grouped
                      .windowedBy(
                          SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(3), GRACE))
                      .emitStrategy(emit)
                      .count();
            };
        if (suppressed()) {
          counts =
              counts.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()));
        }
        counts
            .toStream()
            .map(
                (window, count) ->
                    KeyValue.pair(
                        window.key() + "@" + window.window().start() + "/" + window.window().end(),
                        String.valueOf(count)))
            .to(out, Produced.with(Serdes.String(), Serdes.String()));
      };
    }
  }

  /** One input record as sent. */
  private record Sent(int index, String key, long time) {}

  /**
   * Records of three keys, one in ten up to {@code maxDisorder} ms behind the latest (so beyond the
   * grace period: late for some or all of its windows).
   */
  private static List<Sent> traffic(long seed, int maxDisorder) {
    Random random = new Random(seed);
    List<Sent> sent = new ArrayList<>();
    long time = T0;
    for (int i = 0; i < 300; i++) {
      time += random.nextInt(400);
      long disorder = random.nextInt(10) == 0 ? random.nextInt(maxDisorder) : 0;
      sent.add(new Sent(i, "k" + random.nextInt(3), time - disorder));
    }
    for (int k = 0; k < 3; k++) {
      sent.add(new Sent(300 + k, "k" + k, time + 60_000)); // closes every earlier window
    }
    return sent;
  }

  private static void sendAll(WrappedTopology topology, List<Sent> sent) {
    sent.forEach(s -> topology.send(s.key(), s.time(), s.index()));
  }

  @ParameterizedTest
  @EnumSource(Shape.class)
  void linksEveryContributorOfEachFinalResultAndItsRecordCarriesTheAggregateSpan(Shape shape) {
    List<Sent> sent = shape.traffic(7);
    try (WrappedTopology topology = new WrappedTopology(stateDir, true, shape.topology())) {
      sendAll(topology, sent);
      List<TestRecord<String, String>> results = topology.results();

      assertThat(results).isNotEmpty();
      Set<String> windows = new HashSet<>();
      for (TestRecord<String, String> result : results) {
        assertThat(windows.add(result.key())).as("one final result per window").isTrue();
        String key = result.key().substring(0, result.key().indexOf('@'));
        String[] bounds = result.key().substring(result.key().indexOf('@') + 1).split("/");
        long start = Long.parseLong(bounds[0]);
        long end = Long.parseLong(bounds[1]);
        Set<Integer> inWindow = new HashSet<>();
        for (Sent s : sent) {
          if (s.key().equals(key)
              && s.time() >= start
              && (shape.inclusiveEnd() ? s.time() <= end : s.time() < end)) {
            inWindow.add(s.index());
          }
        }
        Set<Integer> linked = topology.linkedBy(result);
        assertThat(linked)
            .as(
                "links of %s: the %s records it counts, all of its key and window",
                result.key(), result.value())
            .hasSize(Integer.parseInt(result.value()))
            .isSubsetOf(inWindow);
        SpanData aggregate = topology.aggregateOf(result);
        assertThat(aggregate.getParentSpanContext().isValid()).isFalse();
        assertThat(
                aggregate
                    .getAttributes()
                    .get(AttributeKey.longKey("messaging.batch.message_count")))
            .isEqualTo(Long.parseLong(result.value()));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Shape.class)
  void resultsAreExactlyThoseOfTheSameTopologyWithoutTheWrapper(Shape shape) {
    for (long seed = 1; seed <= 3; seed++) {
      List<Sent> sent = shape.traffic(seed);
      List<String> plain;
      try (WrappedTopology unwrapped =
          new WrappedTopology(stateDir.resolve("plain" + seed), false, shape.topology())) {
        sendAll(unwrapped, sent);
        plain = WrappedTopology.withoutHeaders(unwrapped.results());
      }
      try (WrappedTopology wrapped =
          new WrappedTopology(stateDir.resolve("linked" + seed), true, shape.topology())) {
        sendAll(wrapped, sent);
        assertThat(WrappedTopology.withoutHeaders(wrapped.results())).isEqualTo(plain).isNotEmpty();
      }
    }
  }

  @Test
  void splitsTheLinksOfALargeWindowIntoChunkSpansWithinTheBudget() {
    Properties budget = new Properties();
    budget.put(LinkedProcessorWrapper.LINKS_PER_SPAN_MAX_CONFIG, "50");
    try (WrappedTopology topology =
        new WrappedTopology(stateDir, true, budget, Shape.TUMBLING_ON_CLOSE.topology())) {
      for (int i = 0; i < 1_000; i++) {
        topology.send("hot", T0 + i, i);
      }
      topology.send("hot", T0 + 60_000, 1_000);
      TestRecord<String, String> result = topology.results().get(0);

      assertThat(result.value()).isEqualTo("1000");
      assertThat(topology.linkedBy(result)).hasSize(1_000);
      List<SpanData> window =
          topology.spans().stream()
              .filter(span -> span.getTraceId().equals(topology.aggregateOf(result).getTraceId()))
              .toList();
      assertThat(window).hasSize(20).allSatisfy(span -> assertThat(span.getLinks()).hasSize(50));
    }
  }

  @Test
  void givesTheSameSpanIdsWhenTheSameInputIsReplayed() {
    List<String> first;
    try (WrappedTopology topology =
        new WrappedTopology(stateDir.resolve("a"), true, Shape.TUMBLING_ON_CLOSE.topology())) {
      sendAll(topology, Shape.TUMBLING_ON_CLOSE.traffic(3));
      first =
          topology.results().stream()
              .map(r -> WrappedTopology.header(r.headers(), "traceparent"))
              .toList();
    }
    try (WrappedTopology topology =
        new WrappedTopology(stateDir.resolve("b"), true, Shape.TUMBLING_ON_CLOSE.topology())) {
      sendAll(topology, Shape.TUMBLING_ON_CLOSE.traffic(3));
      assertThat(
              topology.results().stream()
                  .map(r -> WrappedTopology.header(r.headers(), "traceparent")))
          .containsExactlyElementsOf(first);
    }
  }

  @Test
  void countsARecordWithMalformedTraceHeadersAsUnlinkedAndGoesOn() {
    try (WrappedTopology topology =
        new WrappedTopology(stateDir, true, Shape.TUMBLING_ON_CLOSE.topology())) {
      RecordHeaders garbage = new RecordHeaders();
      garbage.add("traceparent", "00-zz-\u0000".getBytes(StandardCharsets.UTF_8));
      garbage.add("x-datadog-trace-id", new byte[] {(byte) 0xFF, 0x00});
      topology.send("k", T0, "bad", garbage);
      topology.send("k", T0 + 1, 1);
      topology.send("k", T0 + 60_000, 2);

      TestRecord<String, String> result = topology.results().get(0);
      assertThat(result.value()).isEqualTo("2");
      assertThat(topology.linkedBy(result)).containsExactly(1);
      assertThat(
              topology
                  .aggregateOf(result)
                  .getAttributes()
                  .get(AttributeKey.longKey("correlator.links.unlinked")))
          .isEqualTo(1L);
    }
  }

  private static Properties noCache() {
    Properties props = new Properties();
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    return props;
  }

  @Test
  void linksEachUpdateOfATumblingWindowToTheRecordFoldedIn() {
    Consumer<StreamsBuilder> dsl =
        builder ->
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE))
                .count()
                .toStream((window, count) -> window.key() + "@" + window.window().start())
                .mapValues(String::valueOf)
                .to("out", Produced.with(Serdes.String(), Serdes.String()));
    assertEachUpdateLinksTheRecordFoldedIn(dsl);
  }

  @Test
  void linksEachUpdateOfASessionToTheRecordFoldedIn() {
    Consumer<StreamsBuilder> dsl =
        builder ->
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(3), GRACE))
                .count()
                .toStream()
                .filter((window, count) -> count != null) // a merged session's tombstone
                .map((window, count) -> KeyValue.pair(window.key(), String.valueOf(count)))
                .to("out", Produced.with(Serdes.String(), Serdes.String()));
    assertEachUpdateLinksTheRecordFoldedIn(dsl);
  }

  @Test
  void linksEachUpdateOfAKeyedAggregationToTheRecordFoldedIn() {
    Consumer<StreamsBuilder> dsl =
        builder ->
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .reduce((a, b) -> a + "," + b)
                .toStream()
                .to("out", Produced.with(Serdes.String(), Serdes.String()));
    assertEachUpdateLinksTheRecordFoldedIn(dsl);
  }

  private void assertEachUpdateLinksTheRecordFoldedIn(Consumer<StreamsBuilder> dsl) {
    try (WrappedTopology topology = new WrappedTopology(stateDir, true, noCache(), dsl)) {
      for (int i = 0; i < 40; i++) {
        topology.send("k" + i % 3, T0 + i * 1_000L, i);
      }
      List<TestRecord<String, String>> updates = topology.results();

      assertThat(updates).hasSize(40);
      for (int i = 0; i < updates.size(); i++) {
        assertThat(topology.linkedBy(updates.get(i))).as("update %d", i).containsExactly(i);
        assertThat(
                topology
                    .aggregateOf(updates.get(i))
                    .getAttributes()
                    .get(AttributeKey.stringKey("correlator.emit")))
            .isEqualTo("update");
      }
    }
  }

  @Test
  void failsTheBuildOfAKTableAggregationWithASubtractorNamingTheProcessor() {
    assertBuildFails(
        builder ->
            builder
                .table("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupBy((key, value) -> KeyValue.pair(value, key))
                .count()
                .toStream()
                .mapValues(String::valueOf)
                .to("out"),
        "KTABLE-AGGREGATE");
  }

  @Test
  void failsTheBuildOfASuppressUntilTimeLimitAfterAnAggregation() {
    assertBuildFails(
        builder ->
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE))
                .count()
                .suppress(Suppressed.untilTimeLimit(SIZE, Suppressed.BufferConfig.unbounded()))
                .toStream((window, count) -> window.key())
                .mapValues(String::valueOf)
                .to("out"),
        "KTABLE-SUPPRESS");
  }

  @Test
  void failsTheBuildOfACogroupedAggregation() {
    assertBuildFails(
        builder -> {
          KGroupedStream<String, String> a =
              builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
          KGroupedStream<String, String> b =
              builder.stream("in2", Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
          a.<String>cogroup((key, value, agg) -> agg + value)
              .cogroup(b, (key, value, agg) -> agg + value)
              .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE))
              .aggregate(() -> "")
              .toStream((window, value) -> window.key())
              .to("out");
        },
        "cogrouped");
  }

  @Test
  void failsWhenTheTopologyIsBuiltForHoppingWindowsThatEmitUpdates() {
    Consumer<StreamsBuilder> dsl =
        builder ->
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .windowedBy(
                    TimeWindows.ofSizeAndGrace(SIZE, GRACE).advanceBy(Duration.ofSeconds(5)))
                .count()
                .toStream((window, count) -> window.key())
                .mapValues(String::valueOf)
                .to("out");
    assertThatThrownBy(() -> new WrappedTopology(stateDir, true, dsl).close())
        .isInstanceOf(TopologyException.class)
        .hasMessageContaining("KSTREAM-AGGREGATE")
        .hasMessageContaining("hopping")
        .hasMessageContaining(LinkedAggregation.SUPPORTED);
  }

  @Test
  void failsFastNamingTheKeyOfABadSetting() {
    Map<String, Object> good =
        Map.of(
            StreamsConfig.APPLICATION_ID_CONFIG,
            "app",
            LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG,
            OpenTelemetry.noop(),
            "unrelated.key",
            new Object());
    assertThatThrownBy(() -> configure(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(StreamsConfig.APPLICATION_ID_CONFIG);
    assertThatThrownBy(() -> configure(Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app")))
        .as("never GlobalOpenTelemetry")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG);
    assertThatThrownBy(
            () -> configure(with(good, LinkedProcessorWrapper.LINKS_PER_SPAN_MAX_CONFIG, "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(LinkedProcessorWrapper.LINKS_PER_SPAN_MAX_CONFIG);
    assertThatThrownBy(
            () -> configure(with(good, LinkedProcessorWrapper.LINKS_JSON_MAX_CHARS_CONFIG, "many")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(LinkedProcessorWrapper.LINKS_JSON_MAX_CHARS_CONFIG);
    assertThatThrownBy(
            () -> configure(with(good, LinkedProcessorWrapper.TRACE_EXTRACT_CONFIG, "zipkin")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(LinkedProcessorWrapper.TRACE_EXTRACT_CONFIG)
        .hasMessageContaining("tracecontext, datadog, b3, jaeger");
    assertThatThrownBy(
            () -> configure(with(good, LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, "otel")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG);
    configure(good); // unknown keys and objects pass
  }

  private static void configure(Map<String, ?> configs) {
    new LinkedProcessorWrapper().configure(configs);
  }

  private static Map<String, Object> with(Map<String, Object> configs, String key, Object value) {
    Map<String, Object> more = new HashMap<>(configs);
    more.put(key, value);
    return more;
  }

  private void assertBuildFails(Consumer<StreamsBuilder> dsl, String named) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "wrapped-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, LinkedProcessorWrapper.class.getName());
    props.put(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, OpenTelemetry.noop());
    StreamsBuilder builder =
        new StreamsBuilder(new org.apache.kafka.streams.TopologyConfig(new StreamsConfig(props)));
    dsl.accept(builder);
    assertThatThrownBy(builder::build)
        .isInstanceOf(TopologyException.class)
        .hasMessageContaining(named)
        .hasMessageContaining(LinkedAggregation.SUPPORTED);
  }
}
