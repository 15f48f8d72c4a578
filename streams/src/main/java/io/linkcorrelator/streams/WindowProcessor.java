package io.linkcorrelator.streams;

import io.linkcorrelator.streams.CorrelatorMetrics.Outcome;
import io.linkcorrelator.streams.WindowEmission.Finished;
import io.linkcorrelator.streams.propagation.KafkaHeadersSetter;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Windowing and emission over two stores: the {@link ContributorLog}, and the window state that
 * holds the {@link OpenWindows} (their close index in memory) and the {@link StreamTime} ({@link
 * WindowStores}). Which windows a record opens or joins, when it is late, which of the log's
 * entries a closed window holds and what the log keeps is the {@link WindowRule} of the window
 * type; how far event time has progressed (after a repartition: by the slowest active upstream
 * partition, learnt also from {@link Progress} markers) is the {@link StreamTime}'s.
 *
 * <p>Per record the work is a constant number of store operations, independent of how many messages
 * a window holds (the log's append is one cached put). When stream time reaches a window's close
 * time, its contributors are read back from the log's pages, in event-time order and each message
 * once, into a {@link WindowEmission}; the result is forwarded, and only then is the window's state
 * removed.
 *
 * <p>Emission goes in <b>pieces</b>, bounded by their work: windows are taken, whole and in close
 * order, while the piece's work — the contributors read and linked plus {@value #WINDOW_WORK} per
 * window — is below {@value #WORK_PER_PIECE}, and while the span processor's queue has room for
 * more spans ({@link ExportQueue}: emission waits for exports rather than have spans dropped). A
 * piece's spans go out in one export, which the thread does not wait for: the piece's results are
 * forwarded by a later call once it is confirmed ({@link SpanFlush}), and the next piece starts
 * only after that: one piece at a time, one at most per call. What is left of a burst is continued
 * by the next record or by a punctuator every {@code 100 ms}. So no call does more than one piece's
 * work and no call waits for an export: Kafka Streams commits between calls at its commit interval
 * as usual, and no burst of closing windows can hold a call or a transaction past {@code
 * max.poll.interval.ms} or the transaction timeout.
 */
final class WindowProcessor<K, V> implements Processor<String, Captured, K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(WindowProcessor.class);

  /**
   * The work of one piece: contributors read back and linked, plus {@link #WINDOW_WORK} per window.
   * Windows are emitted whole, so a piece's first window may exceed it.
   */
  static final int WORK_PER_PIECE = 20_000;

  /**
   * A window's own work in a piece, counted in contributors: its spans, its result and its state
   * removed, beside its contributors' links.
   */
  static final int WINDOW_WORK = 30;

  private static final Duration CONTINUE_EVERY = Duration.ofMillis(100);

  private final WindowSpec spec;
  private final LinkOptions options;
  private final boolean repartitions;
  private final WindowStores stores;
  private final CacheFlushes flushes;
  private final WindowEmission.Spans spans;
  private final WindowFold.Factory<K, V> folds;
  private final CorrelatorMetrics metrics;
  private final SpanFlush spanFlush;
  private final BooleanSupplier exportRoom;
  private ProcessorContext<K, V> context;
  private WindowEmission.TaskSpans taskSpans;
  private ContributorLog log;
  private OpenWindows windows;
  private StreamTime streamTime;
  private WindowRule rule;

  /** Wall-clock time at which a record last moved the stream time (or the task started). */
  private long advancedAt;

  /** The last piece emitted, its results held back until its spans are exported; or null. */
  private Piece<K, V> pending;

  private final List<String> inputTopics;

  /**
   * Windows emitted in one call: their results, forwarded once the spans are exported, and their
   * keys, whose state is removed after that.
   */
  private record Piece<K, V>(
      List<Record<K, V>> results, List<Bytes> windows, SpanFlush.Export export) {}

  /**
   * @param spans the spans, with the window rules and link options
   * @param repartitions whether a repartition precedes the step (stream time is the slowest
   *     upstream partition's)
   * @param stores the names of the step's stores
   * @param flushes the writes of the stores' caches, per store and task, and the task's commits
   * @param inputTopics the input topics, when known (the contributor log's topic ids follow their
   *     order; else the order of first sight)
   * @param folds what a window's result is
   */
  WindowProcessor(
      WindowEmission.Spans spans,
      boolean repartitions,
      WindowStores stores,
      CacheFlushes flushes,
      List<String> inputTopics,
      WindowFold.Factory<K, V> folds,
      CorrelatorMetrics metrics,
      SpanFlush spanFlush,
      BooleanSupplier exportRoom) {
    this.spec = spans.window();
    this.options = spans.options();
    this.repartitions = repartitions;
    this.stores = stores;
    this.flushes = flushes;
    this.inputTopics = inputTopics;
    this.folds = folds;
    this.exportRoom = exportRoom;
    this.spanFlush = spanFlush;
    this.spans = spans;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<K, V> context) {
    this.context = context;
    this.taskSpans = spans.forApplication(context.applicationId());
    KeyValueStore<Bytes, byte[]> state = context.getStateStore(stores.windows());
    StateKeys.refuseEarlierLayout(state, stores.windows());
    Map<String, Object> streams = context.appConfigs();
    boolean exactlyOnce =
        String.valueOf(streams.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))
            .startsWith("exactly_once");
    this.log =
        new ContributorLog(
            context.getStateStore(stores.log()),
            state,
            inputTopics,
            ContributorLog.bucketWidth(spec),
            !exactlyOnce);
    flushes.beforeCommit(stores.log(), context.taskId(), log::writeOpenPages);
    this.pending = null; // a task revived after a rollback re-inits: its held results are gone
    // Rebuilt from the restored store whenever a task (re)starts: init runs again on revival.
    this.windows =
        new OpenWindows(
            state, spec, exactlyOnce ? null : flushes.of(stores.windows(), context.taskId()));
    this.advancedAt = context.currentSystemTimeMs();
    this.streamTime = StreamTime.of(repartitions, options.partitionIdleMs(), state, advancedAt);
    this.rule = WindowRule.of(spec, windows, log);
    context.schedule(CONTINUE_EVERY, PunctuationType.WALL_CLOCK_TIME, this::onWallClock);
  }

  @Override
  public void process(Record<String, Captured> record) {
    windows.settle(rule);
    long wallClock = context.currentSystemTimeMs();
    long before = streamTime.current();
    if (record.value() instanceof Progress progress) {
      long now = streamTime.observe(progress, wallClock);
      if (now > before) {
        advancedAt = wallClock;
        metrics.streamTime(now);
      }
      emitDue();
      return;
    }
    Contribution contribution = (Contribution) record.value();
    long time = contribution.timestamp();
    long now = streamTime.observe(contribution.topic(), contribution.partition(), time, wallClock);
    if (now > before) {
      advancedAt = wallClock;
    }
    metrics.streamTime(now);
    byte[] key = StateKeys.groupKey(record.key());
    WindowRule.Assigned assigned = rule.assign(key, time, before, now, wallClock);
    boolean accepted = assigned != WindowRule.Assigned.LATE;
    if (accepted) {
      log.append(key, contribution, now, assigned == WindowRule.Assigned.AT_HORIZON);
      metrics.record(contribution.linked() ? Outcome.LINKED : Outcome.UNLINKED);
    }
    if (windows.takeRegistered()) {
      streamTime.checkpoint();
    }
    emitDue();
    if (!accepted) {
      // Like a bad record: Kafka Streams' handler logs it and sends it to the dead-letter topic.
      metrics.record(Outcome.LATE);
      throw new InvalidRecordException( // concatenated, not String.format: cheap when many are late
          "late: "
              + contribution.topic()
              + "-"
              + contribution.partition()
              + "@"
              + contribution.offset()
              + " has event time "
              + time
              + ", past the grace period of every window that can hold it (stream time "
              + now
              + "); not counted");
    }
  }

  /**
   * On the wall clock: an upstream partition may have become idle (stream time moves); windows left
   * over from a burst are emitted; and when no record has moved stream time for {@code
   * correlator.window.idle.close.ms}, windows whose close time has passed on the wall clock close,
   * stream time moving to the latest close time among them (so none can open again).
   */
  private void onWallClock(long wallClock) {
    windows.settle(rule);
    streamTime.tick(wallClock); // not a record: the idle-closing clock goes on
    long idleCloseMs = options.windowIdleCloseMs();
    if (idleCloseMs > 0 && WindowSpec.minus(wallClock, advancedAt) >= idleCloseMs) {
      long closed = emitDue(Math.max(wallClock, streamTime.current()));
      if (closed != Long.MIN_VALUE) {
        streamTime.advanceTo(closed);
        streamTime.checkpoint();
      }
      return;
    }
    emitDue();
  }

  private void emitDue() {
    emitDue(streamTime.current());
  }

  /**
   * Emits windows due at {@code now}, in close order, within this call's budget. Each window's
   * state is removed only after its result has been forwarded; a window whose emission fails is
   * logged, counted and removed, so it never blocks the windows behind it.
   *
   * @return the latest close time among the windows taken, or {@link Long#MIN_VALUE}
   */
  private long emitDue(long now) {
    if (pending != null && !finishPending()) {
      return Long.MIN_VALUE; // its spans are still being exported: the next call looks again
    }
    if (!windows.anyDue(now)) {
      return Long.MIN_VALUE;
    }
    streamTime.checkpoint();
    List<Bytes> done = new ArrayList<>();
    List<Record<K, V>> results = new ArrayList<>();
    long work = 0;
    Bytes windowKey;
    while (work < WORK_PER_PIECE
        && exportRoom.getAsBoolean() // else the spans would wait: the punctuator goes on later
        && (windowKey = nextDue(now, done)) != null) {
      done.add(windowKey);
      work += WINDOW_WORK;
      try {
        Finished<K, V> finished = emit(windowKey);
        if (finished != null) {
          work += finished.count();
          results.add(result(finished));
        }
      } catch (RuntimeException e) {
        metrics.windowFailed();
        LOG.error(
            "window [{}, {}) of key {} could not be emitted; its result is lost, the windows behind"
                + " it go on",
            StateKeys.windowStart(windowKey),
            StateKeys.windowEnd(windowKey),
            StateKeys.groupKeyOfWindow(windowKey),
            e);
      }
    }
    if (done.isEmpty()) {
      return Long.MIN_VALUE; // no room for spans yet
    }
    long latestClose = Long.MIN_VALUE;
    for (Bytes emitted : done) {
      latestClose = Math.max(latestClose, spec.closeTime(StateKeys.windowEnd(emitted)));
    }
    // The spans first: a result that reaches the output topic has its spans at the backend. The
    // export runs while the thread goes on with records; the results follow once it is confirmed.
    pending = new Piece<>(results, done, spanFlush.start());
    finishPending();
    return latestClose;
  }

  /**
   * Forwards the pending piece's results once its spans are exported, then removes its windows'
   * state (only after the results, so a crash in between emits them again rather than never).
   *
   * @return whether the piece is finished
   */
  private boolean finishPending() {
    if (!spanFlush.done(pending.export())) {
      return false;
    }
    pending.results().forEach(context::forward);
    for (Bytes emitted : pending.windows()) {
      windows.emitted(emitted, rule);
    }
    pending = null;
    return true;
  }

  /** The task closes (Kafka Streams flushes its stores next): emitted windows leave the state. */
  @Override
  public void close() {
    if (windows != null) {
      windows.settleAll(rule);
    }
  }

  /** The next due window not yet taken in this call. */
  private Bytes nextDue(long now, List<Bytes> taken) {
    if (taken.isEmpty()) {
      return windows.firstDue(now);
    }
    // Windows taken in this call are still in the store until their results are forwarded.
    Bytes last = taken.get(taken.size() - 1);
    return windows.dueAfter(last, now);
  }

  /** Builds the spans and the result of a closed window; null when it holds no contributor. */
  private Finished<K, V> emit(Bytes windowKey) {
    String groupKey = StateKeys.groupKeyOfWindow(windowKey);
    long start = StateKeys.windowStart(windowKey);
    long end = StateKeys.windowEnd(windowKey);
    long now = context.currentSystemTimeMs();
    WindowEmission<K, V> emission =
        new WindowEmission<>(
            taskSpans,
            groupKey,
            start,
            end,
            windows.spanStart(windowKey, now),
            folds.open(groupKey, start, end));
    // Only what the window holds (by its rule): its result may be built later (a piece at a time),
    // after records that other windows of its time range still took.
    try (ContributorLog.Entries contributors = rule.contributors(windowKey)) {
      contributors.forEachRemaining(emission::add);
    }
    if (emission.count() == 0) {
      return null; // e.g. a sliding window's right window that nothing fell in
    }
    Finished<K, V> finished = emission.finish(now);
    metrics.windowEmitted(finished.links(), finished.chunks());
    return finished;
  }

  /** The fold's record, with the aggregate span's context as its only headers. */
  private Record<K, V> result(Finished<K, V> finished) {
    RecordHeaders headers = new RecordHeaders();
    options
        .injector()
        .inject(Context.root().with(finished.aggregate()), headers, KafkaHeadersSetter.INSTANCE);
    return finished.result().withHeaders(headers);
  }
}
