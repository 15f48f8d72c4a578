package io.linkcorrelator.app;

import static io.linkcorrelator.app.DslOracle.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.app.DslOracle.Event;
import io.linkcorrelator.app.DslOracle.Window;
import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.WindowSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DslDifferentialTest} on a real broker, with what TopologyTestDriver cannot show: the
 * shipped jar ({@code java -jar}, {@code exactly_once_v2}, a 100 ms commit interval, Kafka's record
 * cache) on four input partitions, against Kafka Streams' DSL running on the same topic in this JVM
 * under the same guarantee. TopologyTestDriver commits after every record, so there the contributor
 * log's pages hold one entry each; here a backlog is read in commit intervals of many records, and
 * the test checks that the pages really hold many entries.
 *
 * <p>Per case: seeded random records over eight keys, each key on one partition, with event times
 * on a 50 ms grid (bursts of equal times, steps and pauses), a quarter of them sent late by up to
 * twice the grace period plus the window, some beyond the grace period; each record carries its own
 * {@code traceparent}. After them, one record far in the future on every partition closes every
 * window in both. Then every final window must be the DSL's (key, start, end, count, sum), its
 * aggregate span (as the OTLP receiver got it) must link exactly the records the DSL counted in it,
 * and the records the DSL counted nowhere must be exactly those in the dead-letter topic as {@code
 * late}; no record may be missing from both. The seed is in every failure message; {@code
 * -Dbroker.differential.seed=N} replays it (or tries another).
 */
class BrokerDifferentialIT {

  private static final String SEED_PROPERTY = "broker.differential.seed";
  private static final int PARTITIONS = 4;
  private static final int KEYS = 8;
  private static final int PER_PARTITION = 400;
  private static final String FLUSH_KEY = "~flush";
  private static final AvroSerde<Order> ORDERS = AvroSerde.of(Order.class);
  private static final AtomicInteger RUNS = new AtomicInteger();

  @AutoClose private static final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private static final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  /** Every window type, with and without grace; each case is a real run of both applications. */
  static Stream<Arguments> cases() {
    long seed = Long.getLong(SEED_PROPERTY, 1L);
    return Stream.of(
            WindowSpec.tumbling(Duration.ofMillis(1_000), Duration.ZERO),
            WindowSpec.tumbling(Duration.ofMillis(1_000), Duration.ofMillis(750)),
            WindowSpec.hopping(
                Duration.ofMillis(1_500), Duration.ofMillis(500), Duration.ofMillis(1_000)),
            WindowSpec.sliding(Duration.ofMillis(1_000), Duration.ZERO),
            WindowSpec.sliding(Duration.ofMillis(2_000), Duration.ofMillis(750)),
            WindowSpec.session(Duration.ofMillis(500), Duration.ZERO),
            WindowSpec.session(Duration.ofMillis(1_000), Duration.ofMillis(750)))
        .map(spec -> Arguments.of(spec, seed));
  }

  @ParameterizedTest(name = "{0} seed {1}")
  @MethodSource("cases")
  void theJarOnABrokerGivesTheDslsFinalWindowsLinksAndLateRecords(WindowSpec spec, long seed)
      throws Exception {
    String run = "run" + RUNS.incrementAndGet();
    String input = run + "-events";
    String output = run + "-results";
    String deadLetters = run + "-dead-letters";
    String replay = "seed " + seed + " (-D" + SEED_PROPERTY + "=" + seed + "), " + spec;
    kafka.createTopic(input, PARTITIONS);
    kafka.createTopics(1, output, deadLetters);

    Map<Integer, List<Event>> arrivals = events(new Random(seed), spec);
    List<Event> events = arrivals.values().stream().flatMap(List::stream).toList();
    produce(input, arrivals);

    Map<String, Window> dslWindows = new ConcurrentHashMap<>();
    TreeSet<Window> actual = new TreeSet<>();
    TreeSet<Integer> actualLate = new TreeSet<>();
    long changelogPuts;
    try (KafkaStreams dsl = dsl(run, input, spec, events, dslWindows);
        CorrelatorProcess correlator =
            CorrelatorProcess.start(
                config(run, input, output, deadLetters, spec),
                AppTestKit.env(kafka, receiver, false),
                "broker-differential-" + run)) {
      dsl.start();
      awaitConsumed("dsl-" + run, input, correlator);
      dsl.close();
      TreeSet<Window> dslFinal = new TreeSet<>(dslWindows.values());
      int dslLate = DslOracle.late(events, dslFinal).size();

      // Stopped once it has written as many windows and late letters as the DSL has (or the
      // guard ran out): a stop lets Kafka Streams commit, so everything written is read after.
      try (TopicReader<String, WindowResult> results =
              new TopicReader<>(
                  output,
                  new StringDeserializer(),
                  AvroSerde.of(WindowResult.class).deserializer());
          TopicReader<byte[], byte[]> letters =
              new TopicReader<>(
                  deadLetters, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos(); // a guard only
        while ((results.records().size() < dslFinal.size() || letters.records().size() < dslLate)
            && correlator.isAlive()
            && System.nanoTime() < deadline) {
          results.poll();
          letters.poll();
        }
        assertThat(correlator.stop())
            .as("exit on SIGTERM; log: %s", correlator.log())
            .isEqualTo(143);
        results.readToEnd();
        letters.readToEnd();
        collect(results.records(), events, actual, replay);
        for (ConsumerRecord<byte[], byte[]> letter : letters.records()) {
          assertThat(AppTestKit.reason(letter))
              .as("%s: every dead letter is a late record", replay)
              .startsWith("late:");
          actualLate.add(Integer.valueOf(ORDERS.deserialize(input, letter.value()).getOrderId()));
        }
      }
      changelogPuts = pageWrites(run);

      TreeSet<Integer> counted = new TreeSet<>(actualLate);
      actual.forEach(window -> counted.addAll(window.ids()));
      assertThat(events.stream().map(Event::id).filter(id -> !counted.contains(id)).toList())
          .as("%s: records neither in a window nor dead-lettered as late", replay)
          .isEmpty();
      int contributors = events.size() - actualLate.size() + PARTITIONS; // the closers too
      System.out.printf(
          "%s: %d records, %d late, %d final windows; %d contributor log pages written for %d"
              + " contributors (%.1f entries a page)%n",
          replay,
          events.size(),
          actualLate.size(),
          dslFinal.size(),
          changelogPuts,
          contributors,
          (double) contributors / changelogPuts);
      TreeSet<Integer> expectedLate = DslOracle.late(events, dslFinal);
      try {
        DslOracle.assertSameAsDsl(
            spec,
            events,
            key -> arrivals.get(partition(key)),
            dslFinal,
            expectedLate,
            actual,
            actualLate);
      } catch (AssertionError e) {
        throw new AssertionError(replay + "; correlator log " + correlator.log() + ": " + e, e);
      }
      // TopologyTestDriver commits after every record: there every contributor is a page.
      assertThat(changelogPuts)
          .as(
              "%s: contributor log pages written (changelog puts) for %d contributors: pages hold"
                  + " more than one and a half entries on average",
              replay, contributors)
          .isLessThan(contributors * 2L / 3);
    }
  }

  /** Key {@code k<i>} is always sent to partition {@code i % 4}. */
  private static int partition(String key) {
    return Integer.parseInt(key.substring(1)) % PARTITIONS;
  }

  /**
   * Each partition's records in the order they are sent: its two keys; its event time moves on a 50
   * ms grid in bursts of equal times, steps and pauses of up to 1.5 s; a quarter of the records are
   * sent late by a jitter of up to twice the grace period plus the window size.
   */
  private static Map<Integer, List<Event>> events(Random random, WindowSpec spec) {
    long reach = spec.graceMs() * 2 + Math.max(spec.sizeMs(), spec.gapMs()) + 250;
    Map<Integer, List<Event>> arrivals = new TreeMap<>();
    int id = 0;
    for (int partition = 0; partition < PARTITIONS; partition++) {
      List<Event> events = new ArrayList<>();
      long time = T0;
      for (int i = 0; i < PER_PARTITION; i++) {
        int step = random.nextInt(20);
        time += step < 14 ? 0 : step < 19 ? 50 : 50L * (6 + random.nextInt(25));
        long jitter = random.nextInt(4) == 0 ? 50L * random.nextInt((int) (reach / 50) + 1) : 0;
        String key = "k" + (partition + PARTITIONS * random.nextInt(KEYS / PARTITIONS));
        events.add(new Event(++id, key, time - jitter, 1 + random.nextInt(100)));
      }
      arrivals.put(partition, events);
    }
    return arrivals;
  }

  /** Sends every partition's records in order, then a closer far in the future on each. */
  private static void produce(String input, Map<Integer, List<Event>> arrivals) {
    long closeAll =
        arrivals.values().stream().flatMap(List::stream).mapToLong(Event::time).max().orElseThrow()
            + 60_000;
    try (KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
      arrivals.forEach(
          (partition, events) -> {
            for (Event event : events) {
              producer.send(
                  new ProducerRecord<>(
                      input,
                      partition,
                      event.time(),
                      event.key(),
                      order(input, event.id(), event.key(), event.amount()),
                      CorrelatorHarness.traced(event.id())));
            }
            producer.send(
                new ProducerRecord<>(
                    input, partition, closeAll, FLUSH_KEY, order(input, 0, FLUSH_KEY, 0)));
          });
    }
  }

  private static byte[] order(String topic, int id, String key, int amount) {
    return ORDERS.serialize(
        topic,
        Order.newBuilder()
            .setOrderId(Integer.toString(id))
            .setCustomerId(key)
            .setAmount(amount)
            .build());
  }

  /**
   * The oracle: the DSL's windowed aggregation of each order's id, under the same guarantee and
   * commit interval, keeping the final state of every window in {@code windows}.
   */
  private KafkaStreams dsl(
      String run, String input, WindowSpec spec, List<Event> events, Map<String, Window> windows) {
    StreamsBuilder builder = new StreamsBuilder();
    KGroupedStream<String, String> grouped =
        builder.stream(input, Consumed.with(Serdes.String(), ORDERS))
            .mapValues(Order::getOrderId)
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()));
    DslOracle.keepFinalState(
        DslOracle.aggregateIds(grouped, spec), spec, events, Set.of(FLUSH_KEY), windows);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dsl-" + run);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("dsl").toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    return new KafkaStreams(builder.build(), props);
  }

  /** The jar's configuration: the same windows, exactly-once, and windows close by records only. */
  private Path config(
      String run, String input, String output, String deadLetters, WindowSpec spec) {
    List<String> lines =
        new ArrayList<>(
            List.of(
                "correlator.input.topics=" + input,
                "correlator.output.topic=" + output,
                "correlator.dead.letter.topic=" + deadLetters,
                "commit.interval.ms=100",
                "statestore.cache.max.bytes=" + 16 * 1024 * 1024,
                "correlator.value.schema=classpath:avro/Order.avsc",
                "correlator.aggregate.field=amount",
                "correlator.aggregate.functions=sum",
                "correlator.window.idle.close.ms=0", // exactly the DSL
                "correlator.window.type=" + spec.type().name().toLowerCase(),
                "correlator.window.grace.ms=" + spec.graceMs()));
    switch (spec.type()) {
      case TUMBLING, HOPPING -> {
        lines.add("correlator.window.size.ms=" + spec.sizeMs());
        lines.add("correlator.window.advance.ms=" + spec.advanceMs());
      }
      case SLIDING -> lines.add("correlator.window.size.ms=" + (spec.sizeMs() - 1));
      case SESSION -> lines.add("correlator.window.gap.ms=" + spec.gapMs());
      default -> throw new IllegalArgumentException(spec.toString());
    }
    return AppTestKit.config(dir, run, "correlator-" + run, lines.toArray(String[]::new));
  }

  /** Waits until the group has committed every input record (while the correlator runs). */
  private static void awaitConsumed(String group, String input, CorrelatorProcess correlator)
      throws Exception {
    List<TopicPartition> partitions = new ArrayList<>();
    for (int partition = 0; partition < PARTITIONS; partition++) {
      partitions.add(new TopicPartition(input, partition));
    }
    Map<TopicPartition, Long> end = new HashMap<>();
    kafka
        .admin()
        .listOffsets(
            partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
        .all()
        .get()
        .forEach((partition, info) -> end.put(partition, info.offset()));
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos(); // a guard only
    while (true) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          kafka.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      if (end.entrySet().stream()
          .allMatch(
              e ->
                  committed.get(e.getKey()) != null
                      && committed.get(e.getKey()).offset() >= e.getValue())) {
        return;
      }
      assertThat(System.nanoTime())
          .as("%s consumed its input within 120 s; committed %s of %s", group, committed, end)
          .isLessThan(deadline);
      assertThat(correlator.isAlive()).as("correlator alive; log: %s", correlator.log()).isTrue();
      AppTestKit.sleep(Duration.ofMillis(200));
    }
  }

  /**
   * The correlator's results (the closers' own windows never close) with the links of their
   * aggregate and chunk spans: one result per window, its count and sum those of its links.
   */
  private static void collect(
      List<ConsumerRecord<String, WindowResult>> results,
      List<Event> events,
      TreeSet<Window> windows,
      String replay) {
    for (ConsumerRecord<String, WindowResult> record : results) {
      assertThat(record.key())
          .as("%s: the closers' windows never close", replay)
          .isNotEqualTo(FLUSH_KEY);
      Window window =
          DslOracle.linkedWindow(
              record.key(),
              record.value(),
              receiver.spansOfTrace(record.value().getTraceId()).stream()
                  .flatMap(span -> span.links().stream())
                  .map(ReceivedSpan.Link::spanId),
              events,
              replay + ": ");
      assertThat(windows.add(window)).as("%s: one result per window: %s", replay, window).isTrue();
    }
  }

  /**
   * Records written to the contributor log's changelog (pages; tombstones not counted), read
   * committed after the correlator stopped.
   */
  private static long pageWrites(String run) throws Exception {
    String changelog = "correlator-" + run + "-" + CorrelatorTopology.LOG_STORE + "-changelog";
    try (TopicReader<byte[], byte[]> pages =
        new TopicReader<>(changelog, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      pages.readToEnd();
      return pages.records().stream().filter(record -> record.value() != null).count();
    }
  }

  /** A read-committed reader of every partition of a topic from its beginning. */
  private static final class TopicReader<K, V> implements AutoCloseable {
    private final KafkaConsumer<K, V> consumer;
    private final List<TopicPartition> partitions;
    private final List<ConsumerRecord<K, V>> records = new ArrayList<>();

    TopicReader(String topic, Deserializer<K> keys, Deserializer<V> values) {
      consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrapServers(),
                  ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                  "read_committed"),
              keys,
              values);
      partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    void poll() {
      consumer.poll(Duration.ofMillis(250)).forEach(records::add);
    }

    /** Reads up to the end the topic has now. */
    void readToEnd() {
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        poll();
      }
    }

    List<ConsumerRecord<K, V>> records() {
      return records;
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
