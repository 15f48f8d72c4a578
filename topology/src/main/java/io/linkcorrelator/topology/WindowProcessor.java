package io.linkcorrelator.topology;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.topology.CorrelatorMetrics.Outcome;
import io.linkcorrelator.topology.WindowEmission.Finished;
import io.opentelemetry.context.Context;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Windowing and emission, in four stores:
 *
 * <ul>
 *   <li>the contributor log ({@value CorrelatorTopology#LOG_STORE}): one entry per accepted
 *       message, keyed by (group key, event time, original message), written once, whatever the
 *       window type and however many windows the message falls in;
 *   <li>the windows ({@value CorrelatorTopology#WINDOWS_STORE}): each open (group key, window) with
 *       the wall-clock time it took its first record (the aggregate span's start);
 *   <li>the close index ({@value CorrelatorTopology#CLOSE_STORE}): the open windows ordered by the
 *       stream time at which they close;
 *   <li>the stream time ({@value CorrelatorTopology#STREAM_TIME_STORE}): the largest event time
 *       that reached the windows.
 * </ul>
 *
 * <p>Per record the work is a constant number of store operations, independent of how many messages
 * a window holds. When stream time reaches a window's end plus grace, the window's contributors are
 * read back from the log by range, in event-time order, into a {@link WindowEmission}; the result
 * goes to the output topic and the window's state is freed: the log keeps only entries that a
 * still-open window of the same key can contain.
 */
final class WindowProcessor implements Processor<String, Contribution, String, WindowResult> {

  private static final Logger LOG = LoggerFactory.getLogger(WindowProcessor.class);
  private static final byte[] EMPTY = new byte[0];
  private static final int BATCH = 1_000;
  private static final Bytes STREAM_TIME_KEY = Bytes.wrap(new byte[] {0});

  private final CorrelatorConfig config;
  private final WindowSpec window;
  private final WindowEmission.Spans spans;
  private final CorrelatorMetrics metrics;
  private final SpanFlush spanFlush;
  private ProcessorContext<String, WindowResult> context;
  private KeyValueStore<Bytes, byte[]> log;
  private KeyValueStore<Bytes, byte[]> windows;
  private KeyValueStore<Bytes, byte[]> closeIndex;
  private KeyValueStore<Bytes, byte[]> streamTimeStore;
  private long streamTime;
  private long storedStreamTime;

  /** Windows known to be registered, so that most records skip the store lookup. */
  private final Map<Bytes, Boolean> registered =
      new LinkedHashMap<>(1_024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Bytes, Boolean> eldest) {
          return size() > 10_000;
        }
      };

  private long nextCloseTime;

  WindowProcessor(
      CorrelatorConfig config,
      WindowEmission.Spans spans,
      CorrelatorMetrics metrics,
      SpanFlush spanFlush) {
    this.config = config;
    this.spanFlush = spanFlush;
    this.window = config.window();
    this.spans = spans;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, WindowResult> context) {
    this.context = context;
    this.log = context.getStateStore(CorrelatorTopology.LOG_STORE);
    this.windows = context.getStateStore(CorrelatorTopology.WINDOWS_STORE);
    this.closeIndex = context.getStateStore(CorrelatorTopology.CLOSE_STORE);
    this.streamTimeStore = context.getStateStore(CorrelatorTopology.STREAM_TIME_STORE);
    byte[] stored = streamTimeStore.get(STREAM_TIME_KEY);
    this.streamTime = stored == null ? Long.MIN_VALUE : ByteBuffer.wrap(stored).getLong();
    this.storedStreamTime = streamTime;
    registered.clear(); // init after a task's state was rolled back: trust only the store
    this.nextCloseTime = firstCloseTime(Long.MIN_VALUE);
  }

  @Override
  public void process(Record<String, Contribution> record) {
    Contribution contribution = record.value();
    long time = contribution.timestamp();
    long streamTime = advanceStreamTime(time);
    metrics.streamTime(streamTime);
    byte[] key = StateKeys.groupKey(record.key());
    boolean accepted =
        switch (window.type()) {
          case TUMBLING, HOPPING -> addToTimeWindows(key, time, streamTime);
          case SLIDING -> addToSlidingWindows(key, time, streamTime);
          case SESSION -> addToSession(key, time, streamTime);
          default -> throw new IllegalStateException("unsupported window type " + window.type());
        };
    if (accepted) {
      log.put(StateKeys.log(key, contribution), ContributionSerde.encode(contribution));
      metrics.record(contribution.linked() ? Outcome.LINKED : Outcome.UNLINKED);
    }
    emitClosedWindows(streamTime);
    if (!accepted) {
      // Like a bad record: Kafka Streams' handler logs it and sends it to the dead-letter topic.
      metrics.record(Outcome.LATE);
      throw new InvalidRecordException(
          String.format(
              "late: %s-%d@%d has event time %d, past the grace period of its window (stream time"
                  + " %d); not counted",
              contribution.topic(),
              contribution.partition(),
              contribution.offset(),
              time,
              streamTime));
    }
  }

  /**
   * The correlator's own stream time: the largest event time among the records that reached the
   * windows. Not the task's stream time, which Kafka Streams advances as it reads, before the
   * capture step can reject a far-future timestamp. It is stored whenever it registers or closes a
   * window ({@link #persistStreamTime}), not on every record: between two such moments it only
   * moved within open windows, so a restart that resumes from the stored value neither reopens an
   * emitted window nor closes one early.
   */
  private long advanceStreamTime(long time) {
    streamTime = Math.max(streamTime, time);
    return streamTime;
  }

  private void persistStreamTime() {
    if (streamTime != storedStreamTime) {
      streamTimeStore.put(STREAM_TIME_KEY, ByteBuffer.allocate(8).putLong(streamTime).array());
      storedStreamTime = streamTime;
    }
  }

  private boolean addToTimeWindows(byte[] key, long time, long streamTime) {
    long size = window.sizeMs();
    long advance = window.advanceMs();
    // As Kafka's TimeWindows.windowsFor: every window [start, start + size) holding time.
    long start = Math.max(0, time - size + advance) / advance * advance;
    boolean open = false;
    for (; start <= time; start += advance) {
      open |= register(key, start, start + size, streamTime, context.currentSystemTimeMs());
    }
    return open;
  }

  private boolean addToSlidingWindows(byte[] key, long time, long streamTime) {
    long difference = window.slidingDifferenceMs();
    // Its own window [time - difference, time]; late once that one has closed.
    if (!register(key, time - difference, time + 1, streamTime, context.currentSystemTimeMs())) {
      return false;
    }
    // Its right window (time, time + difference] exists when a record is already there.
    if (hasLogEntry(key, time + 1, time + difference)) {
      register(key, time + 1, time + difference + 2, streamTime, context.currentSystemTimeMs());
    }
    // The previous record's right window now holds this one.
    try (KeyValueIterator<Bytes, byte[]> previous =
        log.reverseRange(
            StateKeys.logFrom(key, time - difference), StateKeys.logTo(key, time - 1))) {
      if (previous.hasNext()) {
        long before = StateKeys.logTime(previous.next().key, key.length);
        register(
            key, before + 1, before + difference + 2, streamTime, context.currentSystemTimeMs());
      }
    }
    return true;
  }

  private boolean addToSession(byte[] key, long time, long streamTime) {
    long gap = window.gapMs();
    if (window.closeTime(time + 1) <= streamTime) {
      return false;
    }
    long start = time;
    long end = time + 1;
    long spanStart = context.currentSystemTimeMs();
    // Sessions of this key within gap of time: the last one starting at or before time - gap
    // (it may reach past it), and every one starting in (time - gap, time + gap].
    List<KeyValue<Bytes, byte[]>> candidates = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> earlier =
        windows.reverseRange(
            StateKeys.windowFrom(key, Long.MIN_VALUE), StateKeys.windowTo(key, time - gap))) {
      if (earlier.hasNext()) {
        candidates.add(earlier.next());
      }
    }
    try (KeyValueIterator<Bytes, byte[]> later =
        windows.range(
            StateKeys.windowFrom(key, time - gap + 1), StateKeys.windowTo(key, time + gap))) {
      later.forEachRemaining(candidates::add);
    }
    for (KeyValue<Bytes, byte[]> session : candidates) {
      long sessionStart = StateKeys.windowStart(session.key);
      long sessionEnd = StateKeys.windowEnd(session.key);
      if (sessionEnd - 1 + gap < time || sessionStart - gap > time) {
        continue; // not within gap
      }
      start = Math.min(start, sessionStart);
      end = Math.max(end, sessionEnd);
      spanStart = Math.min(spanStart, ByteBuffer.wrap(session.value).getLong());
      windows.delete(session.key);
      registered.remove(session.key);
      closeIndex.delete(StateKeys.close(window.closeTime(sessionEnd), session.key));
    }
    return register(key, start, end, streamTime, spanStart);
  }

  /**
   * Makes the window [start, end) of key known, unless it has closed.
   *
   * @return whether the window is open
   */
  private boolean register(byte[] key, long start, long end, long streamTime, long spanStart) {
    long closeTime = window.closeTime(end);
    if (closeTime <= streamTime) {
      return false;
    }
    Bytes windowKey = StateKeys.window(key, start, end);
    if (registered.containsKey(windowKey)) {
      return true;
    }
    if (windows.get(windowKey) == null) {
      windows.put(windowKey, ByteBuffer.allocate(8).putLong(spanStart).array());
      closeIndex.put(StateKeys.close(closeTime, windowKey), EMPTY);
      nextCloseTime = Math.min(nextCloseTime, closeTime);
      persistStreamTime();
    }
    registered.put(windowKey, Boolean.TRUE);
    return true;
  }

  private boolean hasLogEntry(byte[] key, long from, long to) {
    try (KeyValueIterator<Bytes, byte[]> entries =
        log.range(StateKeys.logFrom(key, from), StateKeys.logTo(key, to))) {
      return entries.hasNext();
    }
  }

  private void emitClosedWindows(long streamTime) {
    if (streamTime < nextCloseTime) {
      return;
    }
    persistStreamTime();
    List<Bytes> due = new ArrayList<>();
    do {
      due.clear();
      try (KeyValueIterator<Bytes, byte[]> closing =
          closeIndex.range(StateKeys.closeFrom(nextCloseTime), StateKeys.closeTo(streamTime))) {
        while (closing.hasNext() && due.size() < BATCH) {
          due.add(closing.next().key);
        }
      }
      List<Record<String, WindowResult>> results = new ArrayList<>(due.size());
      for (Bytes closeKey : due) {
        Record<String, WindowResult> result = emit(StateKeys.windowOfClose(closeKey));
        if (result != null) {
          results.add(result);
        }
        closeIndex.delete(closeKey);
      }
      // The spans first: a result that reaches the output topic has its spans at the backend.
      spanFlush.awaitExport();
      results.forEach(context::forward);
    } while (due.size() == BATCH);
    nextCloseTime = firstCloseTime(streamTime + 1);
  }

  private Record<String, WindowResult> emit(Bytes windowKey) {
    String groupKey = StateKeys.groupKeyOfWindow(windowKey);
    byte[] key = StateKeys.groupKeyBytesOfWindow(windowKey);
    long start = StateKeys.windowStart(windowKey);
    long end = StateKeys.windowEnd(windowKey);
    byte[] state = windows.get(windowKey);
    long now = context.currentSystemTimeMs();
    long spanStart = state == null ? now : ByteBuffer.wrap(state).getLong();
    WindowEmission emission = new WindowEmission(spans, groupKey, start, end, spanStart);
    try (KeyValueIterator<Bytes, byte[]> contributors =
        log.range(StateKeys.logFrom(key, start), StateKeys.logTo(key, end - 1))) {
      contributors.forEachRemaining(entry -> emission.add(ContributionSerde.decode(entry.value)));
    }
    windows.delete(windowKey);
    registered.remove(windowKey);
    freeLog(key, start);
    if (emission.count() == 0) {
      LOG.warn(
          "window [{}, {}) of key {} closed with no contributors; nothing emitted",
          start,
          end,
          groupKey);
      return null;
    }
    Finished finished = emission.finish(now);
    RecordHeaders headers = new RecordHeaders();
    config
        .injector()
        .inject(Context.root().with(finished.aggregate()), headers, KafkaHeadersSetter.INSTANCE);
    metrics.windowEmitted(finished.links(), finished.chunks());
    return new Record<>(
        groupKey, finished.result(), finished.result().getLastEventTime().toEpochMilli(), headers);
  }

  /**
   * Deletes the log entries of key that no open window can contain: those before the earliest start
   * among the key's open windows (all of them when none is open). Every accepted entry lies in an
   * open window that starts at or before it, and a window opened later never reaches back before
   * the entries still kept, so nothing a window needs is freed.
   *
   * <p>Both scans start at the closed window's start, not at the key's first possible entry:
   * windows of a key close in the order of their ends, so every window that started earlier has
   * closed and freed its entries already, and the store's tombstones of those deletions (which a
   * scan would have to skip until compaction) lie below where the scans begin.
   */
  private void freeLog(byte[] key, long closedStart) {
    long keepFrom = Long.MAX_VALUE;
    try (KeyValueIterator<Bytes, byte[]> open =
        windows.range(
            StateKeys.windowFrom(key, closedStart), StateKeys.windowTo(key, Long.MAX_VALUE))) {
      if (open.hasNext()) {
        keepFrom = StateKeys.windowStart(open.next().key);
      }
    }
    List<Bytes> free = new ArrayList<>();
    do {
      free.clear();
      try (KeyValueIterator<Bytes, byte[]> entries =
          log.range(StateKeys.logFrom(key, closedStart), StateKeys.logTo(key, keepFrom - 1))) {
        while (entries.hasNext() && free.size() < BATCH) {
          free.add(entries.next().key);
        }
      }
      free.forEach(log::delete);
    } while (free.size() == BATCH);
  }

  /** The earliest close time at or after {@code from} (earlier ones are all emitted). */
  private long firstCloseTime(long from) {
    try (KeyValueIterator<Bytes, byte[]> first =
        closeIndex.range(StateKeys.closeFrom(from), StateKeys.closeEnd())) {
      return first.hasNext() ? StateKeys.closeTime(first.next().key) : Long.MAX_VALUE;
    }
  }
}
