package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.serdes.CompactSpanContext;
import io.linkcorrelator.streams.propagation.Sampling;
import io.linkcorrelator.streams.propagation.TraceContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * The contributor log's pages on a real in-memory store, its writes before commits driven by hand
 * ({@link ContributorLog#writeOpenPages}, which {@link CacheFlushes#beforeCommit} has run in a
 * running application): what is appended is read back in order, once per message, whatever the
 * pages; {@code any} answers as a list of every entry would.
 */
class ContributorLogTest {

  private static final byte[] KEY = StateKeys.groupKey("a");
  private static final byte[] OTHER_KEY = StateKeys.groupKey("ab");
  private static final List<String> TOPICS = List.of("orders", "payments");

  @Test
  void appendsOfOneBucketShareAPageWrittenOnceBeforeTheCommit() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    for (int i = 0; i < 5; i++) {
      append(log, KEY, contribution("orders", 0, i, 100 + i));
    }
    assertThat(pages(store)).as("open until the commit").isEmpty();
    assertThat(offsets(log, KEY, 0, 2_000)).as("read while open").hasSize(5);

    log.writeOpenPages();
    assertThat(pages(store)).hasSize(1);
    append(log, KEY, contribution("orders", 0, 5, 105));
    append(log, KEY, contribution("orders", 0, 6, 1_500)); // the next bucket
    log.writeOpenPages();

    assertThat(pages(store)).hasSize(3);
    assertThat(offsets(log, KEY, 0, 2_000)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L);
  }

  @Test
  void aWindowReadsOnlyTheEntriesThatArrivedBeforeItClosed() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    append(log, KEY, contribution("orders", 0, 0, 100), 100); // in order
    append(log, KEY, contribution("orders", 0, 1, 600), 600);
    append(log, KEY, contribution("orders", 0, 2, 200), 600); // out of order: stream time 600
    append(log, KEY, contribution("orders", 0, 3, 300), 1_400); // after [0, 500) closed at 1,000
    log.writeOpenPages();
    append(log, KEY, contribution("orders", 0, 4, 400), 999); // just before

    try (ContributorLog.Entries entries =
        log.entries(KEY, 0, 499, (time, arrival, atHorizon) -> arrival < 1_000)) {
      List<Long> offsets = new ArrayList<>();
      entries.forEachRemaining(c -> offsets.add(c.offset()));
      assertThat(offsets).containsExactly(0L, 2L, 4L);
    }
    assertThat(offsets(log, KEY, 0, 499))
        .as("without a close time")
        .containsExactly(0L, 2L, 3L, 4L);
  }

  @Test
  void aWindowChoosesItsEntriesByEventTimeArrivalAndTheHorizonMarkAtNoCostInBytes() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    // One page each: the second and third differ only in the mark.
    append(log, KEY, contribution("orders", 0, 0, 100), 100);
    log.writeOpenPages();
    log.append(KEY, contribution("orders", 0, 1, 100), 600, true);
    log.writeOpenPages();
    log.append(KEY, contribution("orders", 0, 2, 100), 600, false);
    log.writeOpenPages();
    assertThat(pages(store)).hasSize(3);
    assertThat(pages(store).get(1).value.length)
        .as("a mark costs no byte")
        .isEqualTo(pages(store).get(2).value.length);

    List<String> seen = new ArrayList<>();
    try (ContributorLog.Entries entries =
        log.entries(
            KEY,
            0,
            999,
            (time, arrival, atHorizon) -> {
              seen.add(time + "@" + arrival + (atHorizon ? " at the horizon" : ""));
              return atHorizon || arrival < 600;
            })) {
      List<Long> offsets = new ArrayList<>();
      entries.forEachRemaining(c -> offsets.add(c.offset()));
      assertThat(offsets).containsExactly(0L, 1L);
    }
    assertThat(seen).contains("100@100", "100@600 at the horizon", "100@600");
  }

  @Test
  void aPageTakesNoMoreEntriesPastItsByteCap() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000_000);
    int appended = 1_000;
    for (int i = 0; i < appended; i++) {
      append(log, KEY, contribution("orders", 1, i, 10 + i));
    }
    assertThat(pages(store)).as("full pages are written at once").isNotEmpty();
    log.writeOpenPages();
    List<KeyValue<Bytes, byte[]>> pages = pages(store);
    assertThat(pages).hasSizeGreaterThan(1);
    assertThat(pages).allSatisfy(page -> assertThat(page.value).hasSizeLessThanOrEqualTo(4096));
    assertThat(offsets(log, KEY, 0, Long.MAX_VALUE - 1)).hasSize(appended);
  }

  @Test
  void openPagesAreWrittenOnceTheyHoldMoreThanTheirBoundCommitOrNot() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    int appended = 0;
    while (pages(store).isEmpty()) {
      append(
          log, StateKeys.groupKey("k" + appended % 1_000), contribution("orders", 0, appended, 5));
      appended++;
    }
    // An entry is its rest and a few bytes of time, source and length.
    int rest = ContributionSerde.entrySize(contribution("orders", 0, 0, 5), 0);
    assertThat(appended)
        .as("written at the bound, not before")
        .isBetween(ContributorLog.OPEN_BYTES / (rest + 8), ContributorLog.OPEN_BYTES / rest);
    assertThat(pages(store)).hasSize(1_000); // every open page, each once
    append(log, KEY, contribution("orders", 0, appended, 5));
    assertThat(offsets(log, KEY, 0, 999)).containsExactly((long) appended);
  }

  @Test
  void aMessageProcessedAgainIntoASecondPageIsReadOnce() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    for (int i = 0; i < 4; i++) {
      append(log, KEY, contribution("orders", 0, i, 100 + i));
    }
    log.writeOpenPages(); // at-least-once: after a crash, offsets 2 and 3 are processed again
    append(log, KEY, contribution("orders", 0, 2, 102));
    append(log, KEY, contribution("orders", 0, 3, 103));
    append(log, KEY, contribution("payments", 0, 3, 103)); // another topic: another message
    log.writeOpenPages();

    assertThat(pages(store)).hasSize(2);
    assertThat(offsets(log, KEY, 0, 999)).containsExactly(0L, 1L, 2L, 3L, 3L);
    try (ContributorLog.Entries entries = log.entries(KEY, 0, 999, ALL)) {
      List<String> topics = new ArrayList<>();
      entries.forEachRemaining(c -> topics.add(c.topic()));
      assertThat(topics).containsExactly("orders", "orders", "orders", "orders", "payments");
    }
  }

  @Test
  void entriesAndAnyAnswerAsAListOfEveryEntryWould() {
    for (int seed = 0; seed < 300; seed++) {
      Random random = new Random(seed);
      long width = List.of(1L, 3L, 10L, 64L, 1_000L).get(random.nextInt(5));
      KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
      ContributorLog log = log(store, width);
      List<Contribution> appended = new ArrayList<>(); // of KEY, once each
      int count = random.nextInt(200);
      for (int i = 0; i < count; i++) {
        Contribution c =
            !appended.isEmpty() && random.nextInt(10) == 0
                ? appended.get(random.nextInt(appended.size())) // processed again
                : contribution(
                    TOPICS.get(random.nextInt(2)),
                    random.nextInt(3),
                    random.nextInt(1_000),
                    random.nextInt(500));
        if (random.nextInt(8) == 0) {
          append(log, OTHER_KEY, c);
        } else {
          append(log, KEY, c);
          if (!appended.contains(c)) {
            appended.add(c);
          }
        }
        if (random.nextInt(8) == 0) {
          log.writeOpenPages();
        }
      }
      for (int q = 0; q < 50; q++) {
        long from = random.nextInt(520) - 10;
        long to = from + random.nextInt(q % 2 == 0 ? 5 : 300) - 1;
        List<String> expected = expected(appended, from, to);
        assertThat(log.any(KEY, from, to))
            .as("seed %d, any in [%d, %d]", seed, from, to)
            .isEqualTo(!expected.isEmpty());
        assertThat(read(log, KEY, from, to))
            .as("seed %d, entries in [%d, %d]", seed, from, to)
            .containsExactlyElementsOf(expected);
      }
    }
  }

  @Test
  void freeDeletesWholeBucketsBelowItsEndAndAKeyWithoutOpenWindowsLeavesNothing() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 100);
    Random random = new Random(7);
    List<Contribution> appended = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      Contribution c = contribution("orders", 0, i, random.nextInt(10_000));
      appended.add(c);
      append(log, KEY, c);
      append(log, OTHER_KEY, contribution("orders", 1, i, random.nextInt(10_000)));
      if (i % 50 == 0) {
        log.writeOpenPages();
      }
    }
    log.free(KEY, 0, 5_050); // the buckets that end at or before 5,050: up to [4,900, 5,000)
    assertThat(
            pages(store).stream()
                .filter(p -> StateKeys.groupKeyOfLog(p.key).equals("a"))
                .map(p -> StateKeys.bucketOfLog(p.key)))
        .isNotEmpty()
        .allSatisfy(bucket -> assertThat(bucket).isGreaterThanOrEqualTo(5_000));
    assertThat(read(log, KEY, 5_000, 9_999))
        .containsExactlyElementsOf(expected(appended, 5_000, 9_999));

    log.free(KEY, 5_000, Long.MAX_VALUE);
    assertThat(pages(store).stream().map(p -> StateKeys.groupKeyOfLog(p.key)).distinct())
        .containsExactly("ab");
  }

  @Test
  void aPageFreedWhileOpenIsNotWrittenAgainByTheNextAppend() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 10);
    append(log, KEY, contribution("orders", 0, 1, 3));
    log.free(KEY, 0, 10);
    append(log, KEY, contribution("orders", 0, 2, 4)); // the same bucket, same generation
    assertThat(offsets(log, KEY, 0, 9)).containsExactly(2L);
  }

  @Test
  void stateOfTheLayoutBeforePagesIsRefusedWithAClearError() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    // An entry of the layout before pages: one per message, its value ContributionSerde's entry.
    store.put(
        StateKeys.logPage(KEY, 0, 0, 0, 5),
        ContributionSerde.encodeEntry(contribution("orders", 0, 5, 5)));
    assertThatThrownBy(() -> log.entries(KEY, 0, 999, ALL))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown layout")
        .hasMessageContaining("reset the application's state");
    assertThatThrownBy(() -> log.any(KEY, 0, 999)).isInstanceOf(SerializationException.class);
  }

  @Test
  void anEntryFromThePreviousEntrysPartitionNamesItsOffsetByTheDistanceToIt() {
    long offset = 5_000_000_000L; // a long-lived topic's offsets: five bytes each in full
    List<Contribution> appended = new ArrayList<>();
    appended.add(contribution("orders", 3, offset, 10));
    int one = pageBytes(appended);
    for (int i = 1; i < 50; i++) {
      appended.add(contribution("orders", 3, offset + i, 10 + i));
    }
    int rest = ContributionSerde.entrySize(contribution("orders", 3, offset, 10), 0);
    // Each later entry: its time from the bucket start, the distance to the previous offset and the
    // rest's length (one byte each), then the rest; the header's varints keep their one byte each.
    assertThat(pageBytes(appended)).isEqualTo(one + 49 * (3 + rest));
    appended.add(contribution("payments", 3, offset + 50, 60)); // another topic: in full
    assertThat(pageBytes(appended))
        .isEqualTo(one + 50 * (3 + rest) - 1 + Varints.sizeOf(offset + 50 << 1 | 1) + 2);
  }

  /** The bytes of the one page that {@code appended} makes. */
  private int pageBytes(List<Contribution> appended) {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    appended.forEach(c -> append(log, KEY, c));
    log.writeOpenPages();
    assertThat(pages(store)).hasSize(1);
    assertThat(offsets(log, KEY, 0, 999)).hasSize(appended.size());
    return pages(store).get(0).value.length;
  }

  @Test
  void stateOfTheEarlierPagedLayoutIsRefusedWithAClearError() {
    KeyValueStore<Bytes, byte[]> store = store(Stores.inMemoryKeyValueStore("log"));
    ContributorLog log = log(store, 1_000);
    // A page of the layout 0xA0: count 1, least and greatest time 5, then an entry whose partition,
    // offset and topic id are in full (zig-zag varints).
    store.put(StateKeys.logPage(KEY, 0, 0, 0, 5), new byte[] {(byte) 0xA0, 2, 10, 10, 10, 0, 10});
    assertThatThrownBy(() -> log.entries(KEY, 0, 999, ALL))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown layout (first byte 0xA0")
        .hasMessageContaining("reset the application's state");
  }

  /** What a list of every entry answers: the entries in [from, to], sorted as the log sorts. */
  private static List<String> expected(List<Contribution> appended, long from, long to) {
    return appended.stream()
        .filter(c -> c.timestamp() >= from && c.timestamp() <= to)
        .sorted(
            Comparator.comparingLong(Contribution::timestamp)
                .thenComparingInt(c -> TOPICS.indexOf(c.topic()))
                .thenComparingInt(Contribution::partition)
                .thenComparingLong(Contribution::offset))
        .map(ContributorLogTest::describe)
        .toList();
  }

  /** Every entry of the range. */
  private static final ContributorLog.Holds ALL = (time, arrival, atHorizon) -> true;

  /** Appends in event-time order (no arrival lag), not at a session's horizon. */
  private static void append(ContributorLog log, byte[] key, Contribution contribution) {
    log.append(key, contribution, contribution.timestamp(), false);
  }

  /** Appends at {@code streamTime}, not at a session's horizon. */
  private static void append(
      ContributorLog log, byte[] key, Contribution contribution, long streamTime) {
    log.append(key, contribution, streamTime, false);
  }

  private static List<String> read(ContributorLog log, byte[] key, long from, long to) {
    List<String> read = new ArrayList<>();
    try (ContributorLog.Entries entries = log.entries(key, from, to, ALL)) {
      entries.forEachRemaining(c -> read.add(describe(c)));
    }
    return read;
  }

  private static String describe(Contribution c) {
    return c.topic() + "-" + c.partition() + "@" + c.offset() + " t" + c.timestamp();
  }

  private static List<Long> offsets(ContributorLog log, byte[] key, long from, long to) {
    List<Long> offsets = new ArrayList<>();
    try (ContributorLog.Entries entries = log.entries(key, from, to, ALL)) {
      entries.forEachRemaining(c -> offsets.add(c.offset()));
    }
    return offsets;
  }

  private ContributorLog log(KeyValueStore<Bytes, byte[]> store, long width) {
    return new ContributorLog(
        store, store(Stores.inMemoryKeyValueStore("ids")), TOPICS, width, true);
  }

  private static KeyValueStore<Bytes, byte[]> store(KeyValueBytesStoreSupplier supplier) {
    KeyValueStore<Bytes, byte[]> store =
        Stores.keyValueStoreBuilder(supplier, Serdes.Bytes(), Serdes.ByteArray())
            .withLoggingDisabled()
            .build();
    store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    return store;
  }

  private static List<KeyValue<Bytes, byte[]>> pages(KeyValueStore<Bytes, byte[]> store) {
    List<KeyValue<Bytes, byte[]>> pages = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> all = store.all()) {
      all.forEachRemaining(pages::add);
    }
    return pages;
  }

  private static Contribution contribution(String topic, int partition, long offset, long time) {
    TraceContext context =
        new TraceContext(
            new CompactSpanContext(offset + 1, partition + 1, time + 1, (byte) 1),
            "",
            "tracecontext",
            Sampling.SAMPLED);
    return new Contribution(topic, partition, offset, time, List.of(context), null);
  }
}
