package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/** The close index in memory, built from the window state whenever a task starts. */
class OpenWindowsTest {

  private static final WindowSpec TUMBLING =
      WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ofSeconds(2));

  private final KeyValueStore<Bytes, byte[]> state = store();

  @Test
  void aRestartedTaskRebuildsTheCloseIndexFromTheStoreAndClosesDueWindowsInCloseOrder() {
    OpenWindows before = new OpenWindows(state, TUMBLING, null);
    // Registered out of close order, over three keys.
    before.register(key("b"), 20_000, 30_000, 0, 1);
    before.register(key("a"), 0, 10_000, 0, 2);
    before.register(key("c"), 10_000, 20_000, 0, 3);
    before.register(key("a"), 20_000, 30_000, 0, 4);
    before.register(key("a"), 40_000, 50_000, 0, 5);

    OpenWindows after = new OpenWindows(state, TUMBLING, null);

    assertThat(after.anyDue(11_999)).isFalse();
    assertThat(due(after, 32_000))
        .containsExactly(
            StateKeys.window(key("a"), 0, 10_000),
            StateKeys.window(key("c"), 10_000, 20_000),
            StateKeys.window(key("a"), 20_000, 30_000),
            StateKeys.window(key("b"), 20_000, 30_000));
    assertThat(after.spanStart(StateKeys.window(key("c"), 10_000, 20_000), -1)).isEqualTo(3);
    assertThat(after.register(key("a"), 40_000, 50_000, 32_000, 99))
        .as("known after the restart")
        .isTrue();
    assertThat(after.takeRegistered()).as("not registered again").isFalse();
  }

  @Test
  void aSessionsBoundOfOlderSessionsIsStoredWithItAndSurvivesARestart() {
    WindowSpec sessions = WindowSpec.session(Duration.ofMillis(500), Duration.ZERO);
    OpenWindows before = new OpenWindows(state, sessions, null);
    before.register(key("a"), 0, 101, 600, 1);
    before.register(key("a"), 50, 551, 600, 2, 100);

    OpenWindows after = new OpenWindows(state, sessions, null);

    assertThat(after.olderUntil(StateKeys.window(key("a"), 0, 101))).isEqualTo(Long.MIN_VALUE);
    assertThat(after.olderUntil(StateKeys.window(key("a"), 50, 551))).isEqualTo(100);
    assertThat(after.spanStart(StateKeys.window(key("a"), 50, 551), -1)).isEqualTo(2);
  }

  @Test
  void lookingBackForASessionPassesOverTheOnesEndingTooEarlyInsideIt() {
    WindowSpec sessions = WindowSpec.session(Duration.ofMillis(500), Duration.ZERO);
    OpenWindows windows = new OpenWindows(state, sessions, null);
    windows.register(key("a"), 90, 651, 700, 1, 200);
    windows.register(key("a"), 100, 201, 700, 2); // inside it, no longer merged

    assertThat(windows.lastStartingBy(key("a"), 200, Long.MIN_VALUE))
        .isEqualTo(StateKeys.window(key("a"), 100, 201));
    assertThat(windows.lastStartingBy(key("a"), 200, 201))
        .isEqualTo(StateKeys.window(key("a"), 90, 651));
    assertThat(windows.lastStartingBy(key("a"), 200, 651)).isNull();
  }

  @Test
  void theCloseIndexOfTheEarlierLayoutIsDeletedAtStartAndItsOpenWindowsCloseInOrder() {
    Bytes late = StateKeys.window(key("a"), 10_000, 20_000);
    Bytes early = StateKeys.window(key("b"), 0, 10_000);
    state.put(late, ByteBuffer.allocate(8).putLong(7).array());
    state.put(early, ByteBuffer.allocate(8).putLong(8).array());
    state.put(earlierCloseKey(22_000, late), new byte[0]);
    state.put(earlierCloseKey(12_000, early), new byte[0]);
    state.put(StateKeys.single(StateKeys.STREAM_TIME), ByteBuffer.allocate(8).putLong(5).array());

    OpenWindows windows = new OpenWindows(state, TUMBLING, null);

    assertThat(keys()).noneMatch(k -> k.get()[0] == StateKeys.EARLIER_CLOSE_INDEX);
    assertThat(keys()).contains(late, early, StateKeys.single(StateKeys.STREAM_TIME));
    assertThat(due(windows, 22_000)).containsExactly(early, late);
  }

  @Test
  void underExactlyOnceAnEmittedWindowIsDeletedAndFreedAtOnce() {
    OpenWindows windows = new OpenWindows(state, TUMBLING, null);
    windows.register(key("a"), 0, 10_000, 0, 1);
    Bytes window = StateKeys.window(key("a"), 0, 10_000);
    Frees frees = new Frees();

    windows.emitted(window, frees);

    assertThat(state.get(window)).isNull();
    assertThat(frees.starts).containsExactly(0L);
    assertThat(windows.anyDue(Long.MAX_VALUE)).isFalse();
  }

  @Test
  void underAtLeastOnceAnEmittedWindowIsDeletedAfterTheNextCacheWriteAndFreedAfterTheOneAfter() {
    AtomicLong flushes = new AtomicLong();
    OpenWindows windows = new OpenWindows(state, TUMBLING, flushes);
    windows.register(key("a"), 0, 10_000, 0, 1);
    windows.register(key("a"), 10_000, 20_000, 0, 2);
    Bytes window = StateKeys.window(key("a"), 0, 10_000);
    Frees frees = new Frees();

    windows.emitted(window, frees);
    windows.settle(frees);

    assertThat(windows.firstDue(12_000)).as("out of the close index").isNull();
    assertThat(windows.starting(key("a"), 0, 20_000))
        .as("hidden from the rules")
        .containsExactly(StateKeys.window(key("a"), 10_000, 20_000));
    assertThat(windows.lastStartingBy(key("a"), 5_000, Long.MIN_VALUE)).isNull();
    assertThat(windows.earliestStart(key("a"), 0)).as("its entries are kept").isZero();
    assertThat(state.get(window))
        .as("kept until the stream time that closed it is written")
        .isNotNull();

    flushes.incrementAndGet();
    windows.settle(frees);
    assertThat(state.get(window)).isNull();
    assertThat(frees.starts).as("freed only once its deletion is written").isEmpty();
    windows.settle(frees);
    assertThat(frees.starts).isEmpty();

    flushes.incrementAndGet();
    windows.settle(frees);
    assertThat(frees.starts).containsExactly(0L);
  }

  @Test
  void underAtLeastOnceATaskClosingDeletesAndFreesItsEmittedWindows() {
    OpenWindows windows = new OpenWindows(state, TUMBLING, new AtomicLong());
    windows.register(key("a"), 0, 10_000, 0, 1);
    Bytes window = StateKeys.window(key("a"), 0, 10_000);
    Frees frees = new Frees();
    windows.emitted(window, frees);

    windows.settleAll(frees);

    assertThat(state.get(window)).isNull();
    assertThat(frees.starts).containsExactly(0L);
  }

  /** The windows due at {@code streamTime}, as the processor walks them. */
  private static List<Bytes> due(OpenWindows windows, long streamTime) {
    List<Bytes> due = new ArrayList<>();
    for (Bytes window = windows.firstDue(streamTime);
        window != null;
        window = windows.dueAfter(window, streamTime)) {
      due.add(window);
    }
    return due;
  }

  /** The previous layout's close-index key: [5][close time, sign flipped][window key after [4]]. */
  private static Bytes earlierCloseKey(long closeTime, Bytes window) {
    byte[] key = window.get();
    return Bytes.wrap(
        ByteBuffer.allocate(1 + 8 + key.length - 1)
            .put(StateKeys.EARLIER_CLOSE_INDEX)
            .putLong(closeTime ^ Long.MIN_VALUE)
            .put(key, 1, key.length - 1)
            .array());
  }

  private List<Bytes> keys() {
    List<Bytes> keys = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> all = state.all()) {
      all.forEachRemaining(entry -> keys.add(entry.key));
    }
    return keys;
  }

  private static byte[] key(String key) {
    return StateKeys.groupKey(key);
  }

  /** The frees a rule was asked for, by closed window start. */
  private static final class Frees implements WindowRule {
    final List<Long> starts = new ArrayList<>();

    @Override
    public Assigned assign(byte[] key, long time, long before, long streamTime, long now) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ContributorLog.Entries contributors(Bytes window) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void free(byte[] key, long closedStart) {
      starts.add(closedStart);
    }
  }

  private static KeyValueStore<Bytes, byte[]> store() {
    KeyValueStore<Bytes, byte[]> store =
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore("windows"), Serdes.Bytes(), Serdes.ByteArray())
            .withLoggingDisabled()
            .build();
    store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    return store;
  }
}
