package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.WindowSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;

/**
 * Kafka Streams' own DSL as the oracle for window semantics, shared by the differential tests
 * ({@link DslDifferentialTest} on TopologyTestDriver; a test on the embedded broker can reuse it):
 * the DSL's windowed aggregation of each record's id, the final state of every window it reports,
 * and the comparison of those windows and late records with the correlator's.
 *
 * <p>The oracle is the final state of each window of the uncached aggregation (its last update, or
 * gone when a tombstone removed it: a session merged into a larger one), not {@code
 * suppress(untilWindowCloses)}: for sliding and session windows that emits a window when stream
 * time reaches its inclusive end plus grace, while the aggregation still adds records to it at that
 * stream time, so "final" results come out twice (see the README's window semantics).
 */
final class DslOracle {

  /** Event times are compared relative to this instant. */
  static final long T0 = CorrelatorHarness.T0;

  private DslOracle() {}

  /** One generated record: its id is both its order id and the number of its producer span. */
  record Event(int id, String key, long time, int amount) {}

  /** One final window, as both sides report it; times relative to {@link #T0}, end exclusive. */
  record Window(String key, long start, long end, long count, long sum, List<Integer> ids)
      implements Comparable<Window> {
    @Override
    public int compareTo(Window other) {
      return toString().compareTo(other.toString());
    }
  }

  /**
   * The DSL's windowed aggregation of {@code spec} over records whose value is the record's id: a
   * comma-separated list of the ids in each window, without the record cache so that every update
   * and every tombstone reaches the table's stream.
   */
  static KTable<Windowed<String>, String> aggregateIds(
      KGroupedStream<String, String> grouped, WindowSpec spec) {
    Duration grace = Duration.ofMillis(spec.graceMs());
    return switch (spec.type()) {
      case TUMBLING, HOPPING ->
          grouped
              .windowedBy(
                  TimeWindows.ofSizeAndGrace(Duration.ofMillis(spec.sizeMs()), grace)
                      .advanceBy(Duration.ofMillis(spec.advanceMs())))
              .aggregate(() -> "", (k, v, agg) -> agg + "," + v, uncached());
      case SLIDING ->
          grouped
              .windowedBy(
                  SlidingWindows.ofTimeDifferenceAndGrace(
                      Duration.ofMillis(spec.sizeMs() - 1), grace))
              .aggregate(() -> "", (k, v, agg) -> agg + "," + v, uncached());
      case SESSION ->
          grouped
              .windowedBy(
                  SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(spec.gapMs()), grace))
              .aggregate(
                  () -> "",
                  (k, v, agg) -> agg + "," + v,
                  (k, left, right) -> left + right,
                  uncached());
      default -> throw new IllegalArgumentException(spec.toString());
    };
  }

  /** Without the record cache, so that every update and every tombstone reaches the result. */
  private static <S extends org.apache.kafka.streams.processor.StateStore>
      Materialized<String, String, S> uncached() {
    return Materialized.<String, String, S>with(Serdes.String(), Serdes.String())
        .withCachingDisabled();
  }

  /**
   * Keeps the final state of every window of {@code table} in {@code emitted} (by key and window),
   * ignoring keys in {@code ignoredKeys}; the DSL's inclusive sliding and session ends become
   * exclusive, as the correlator reports them. The map must be safe for the stream threads.
   */
  static void keepFinalState(
      KTable<Windowed<String>, String> table,
      WindowSpec spec,
      List<Event> events,
      Set<String> ignoredKeys,
      Map<String, Window> emitted) {
    long endOffset = spec.type() == WindowType.SLIDING || spec.type() == WindowType.SESSION ? 1 : 0;
    Map<Integer, Event> byId = byId(events);
    table
        .toStream()
        .foreach(
            (windowed, ids) -> {
              if (ignoredKeys.contains(windowed.key())) {
                return;
              }
              String id =
                  windowed.key() + "@" + windowed.window().start() + "-" + windowed.window().end();
              if (ids == null) {
                emitted.remove(id);
                return;
              }
              TreeSet<Integer> members = new TreeSet<>();
              Arrays.stream(ids.substring(1).split(","))
                  .map(Integer::valueOf)
                  .forEach(members::add);
              Window previous = emitted.get(id);
              if (previous != null && !members.containsAll(previous.ids())) {
                // A deliberate difference: the DSL replaced a session by a new one with the same
                // start and end instead of merging them (its session store no longer returned the
                // stored one, past its retention), losing the first one's records. The correlator
                // keeps both in the one window.
                members.addAll(previous.ids());
              }
              emitted.put(
                  id,
                  window(
                      windowed.key(),
                      windowed.window().start(),
                      windowed.window().end() + endOffset,
                      List.copyOf(members),
                      byId));
            });
  }

  /** The ids of the events the DSL counted in none of {@code windows}: dropped as late. */
  static TreeSet<Integer> late(List<Event> events, Collection<Window> windows) {
    TreeSet<Integer> counted = new TreeSet<>();
    windows.forEach(window -> counted.addAll(window.ids()));
    TreeSet<Integer> late = new TreeSet<>();
    events.stream().map(Event::id).filter(id -> !counted.contains(id)).forEach(late::add);
    return late;
  }

  /**
   * The window of {@code key} from {@code start} to the exclusive {@code end} holding {@code ids}.
   */
  static Window window(String key, long start, long end, List<Integer> ids, List<Event> events) {
    return window(key, start, end, ids, byId(events));
  }

  /**
   * The correlator's result for {@code key} as a window holding the records its spans link, given
   * as the linked span ids (hex, as {@link CorrelatorHarness#traced} made them), in any order; the
   * result's count and sum must be those of the linked records.
   *
   * @param context what a failure message starts with
   */
  static Window linkedWindow(
      String key,
      WindowResult result,
      Stream<String> linkedSpanIds,
      List<Event> events,
      String context) {
    List<Integer> linked =
        linkedSpanIds
            .map(spanId -> (int) (Long.parseLong(spanId, 16) - 0x2000_0000L))
            .sorted()
            .toList();
    Window window =
        window(
            key,
            result.getWindowStart().toEpochMilli(),
            result.getWindowEnd().toEpochMilli(),
            linked,
            events);
    assertThat(result.getMessageCount())
        .as("%scount of %s", context, window)
        .isEqualTo(window.count());
    assertThat(result.getSum()).as("%ssum of %s", context, window).isEqualTo((double) window.sum());
    return window;
  }

  private static Window window(
      String key, long start, long end, List<Integer> ids, Map<Integer, Event> byId) {
    long sum = ids.stream().mapToLong(id -> byId.get(id).amount()).sum();
    return new Window(key, start - T0, end - T0, ids.size(), sum, ids);
  }

  private static Map<Integer, Event> byId(List<Event> events) {
    Map<Integer, Event> byId = new HashMap<>();
    events.forEach(event -> byId.put(event.id(), event));
    return byId;
  }

  /**
   * Asserts that the correlator's final windows and late records ({@code actual}, {@code
   * actualLate}) are the DSL's ({@code expected}, {@code expectedLate}); all four are changed.
   *
   * <p>By definition a window holds the accepted records of its key within its range that arrived
   * before it closed. Where a DSL sliding window breaks that (its sliding aggregation creates a
   * window by copying a neighbour's aggregate; after out-of-order records whose own window had
   * closed, the copy can carry a record from outside the new window or miss one inside it, or there
   * is no neighbour to copy and a window of the definition is missing), the DSL is no oracle for
   * that key, and the correlator's windows of that key must meet the definition. A DSL session may
   * break it too, and there the DSL stays the oracle: a session its store no longer returns (past
   * gap plus grace behind stream time) is not merged, so a later record starts a session that
   * overlaps it without holding its records (see the README's window semantics). Tumbling and
   * hopping windows always meet it.
   *
   * @param arrivals a key's task's records in the order they reached it: its stream time
   */
  static void assertSameAsDsl(
      WindowSpec spec,
      List<Event> events,
      Function<String, List<Event>> arrivals,
      TreeSet<Window> expected,
      TreeSet<Integer> expectedLate,
      TreeSet<Window> actual,
      TreeSet<Integer> actualLate) {
    TreeSet<String> inconsistent = new TreeSet<>();
    List<String> differences = new ArrayList<>();
    for (Window window : expected) {
      List<Integer> defined = definition(spec, window, arrivals, expectedLate);
      if (!window.ids().equals(defined)) {
        inconsistent.add(window.key());
        differences.add(window + " by definition " + defined);
      }
    }
    if (spec.type() == WindowType.SLIDING) {
      // The DSL creates a record's right window by copying the aggregate of a stored window that
      // holds the record; when that one was never stored (its own record came after it had
      // closed), the DSL has no window where the definition has one.
      for (Window window : actual) {
        if (!expected.contains(window)
            && isSlidingWindowOfARecord(spec, window, events)
            && window.ids().equals(definition(spec, window, arrivals, actualLate))) {
          inconsistent.add(window.key());
          differences.add(window + " missing in the DSL, by definition " + window.ids());
        }
      }
    }
    assertThat(inconsistent)
        .as(
            "keys with a DSL window other than its definition: %s; the correlator's windows of"
                + " those keys: %s",
            differences,
            actual.stream().filter(window -> inconsistent.contains(window.key())).toList())
        .satisfiesAnyOf(
            keys -> assertThat(keys).isEmpty(),
            keys -> assertThat(spec.type()).isIn(WindowType.SLIDING, WindowType.SESSION));
    if (spec.type() == WindowType.SLIDING) {
      for (Window window : actual) {
        if (inconsistent.contains(window.key())) {
          assertThat(window.ids())
              .as("records of %s", window)
              .isEqualTo(definition(spec, window, arrivals, actualLate));
        }
      }
      Map<Integer, Event> byId = byId(events);
      expected.removeIf(window -> inconsistent.contains(window.key()));
      actual.removeIf(window -> inconsistent.contains(window.key()));
      expectedLate.removeIf(id -> inconsistent.contains(byId.get(id).key()));
      actualLate.removeIf(id -> inconsistent.contains(byId.get(id).key()));
    }

    TreeSet<Window> missing = new TreeSet<>(expected);
    missing.removeAll(actual);
    TreeSet<Window> unexpected = new TreeSet<>(actual);
    unexpected.removeAll(expected);
    assertThat(actual)
        .as(
            "final windows of %s: of %d, %d missing or different %s, %d unexpected %s (%d keys"
                + " with a DSL window other than its definition)",
            spec,
            expected.size(),
            missing.size(),
            missing,
            unexpected.size(),
            unexpected,
            inconsistent.size())
        .containsExactlyElementsOf(expected);
    assertThat(actualLate).as("records dropped as late").containsExactlyElementsOf(expectedLate);
  }

  /**
   * Whether {@code window} is one that the sliding windows' definition creates: the left window
   * {@code [t - d, t]} or the right window {@code [t + 1, t + 1 + d]} of a record of its key at
   * {@code t} (counted or not: a record whose own window has closed still has its right window).
   */
  private static boolean isSlidingWindowOfARecord(
      WindowSpec spec, Window window, List<Event> events) {
    return window.end() - window.start() == spec.sizeMs()
        && events.stream()
            .filter(event -> event.key().equals(window.key()))
            .map(event -> event.time() - T0)
            .anyMatch(time -> time == window.end() - 1 || time == window.start() - 1);
  }

  /**
   * The records a window holds by definition: those of its key within its range, not in {@code
   * dropped}, that arrived while its task's stream time (the largest event time so far, this
   * record's included) was before the window's close time.
   */
  private static List<Integer> definition(
      WindowSpec spec,
      Window window,
      Function<String, List<Event>> arrivals,
      TreeSet<Integer> dropped) {
    long closeTime = T0 + window.end() + spec.gapMs() + spec.graceMs();
    List<Integer> ids = new ArrayList<>();
    long streamTime = Long.MIN_VALUE;
    for (Event event : arrivals.apply(window.key())) {
      streamTime = Math.max(streamTime, event.time());
      if (streamTime >= closeTime) {
        break;
      }
      long time = event.time() - T0;
      if (event.key().equals(window.key())
          && time >= window.start()
          && time < window.end()
          && !dropped.contains(event.id())) {
        ids.add(event.id());
      }
    }
    return ids;
  }
}
