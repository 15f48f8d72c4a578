package io.linkcorrelator.streams;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;

/**
 * Session windows, as Kafka Streams' {@code KStreamSessionWindowAggregate}: a record at {@code t}
 * merges with every session of its key that ends at or after {@code t - gap} and starts at or
 * before {@code t + gap}; the record is late only when the merged session has closed (its last
 * record plus gap plus grace is before stream time).
 *
 * <p><b>The horizon.</b> Like the DSL, whose session store returns only sessions within its
 * retention (gap plus grace) of the latest end it stored, a session whose last record is at or
 * before the HORIZON, {@code h = streamTime - gap - grace} (the stream time before the record), is
 * no longer merged, though it closes only when stream time passes {@code h}: the record starts or
 * joins another session. Sessions still merged never overlap; one no longer merged can be
 * overlapped by a later session that a record reaches back with (a record at or before {@code h},
 * not late because it joins a session still merged within gap of it). In the DSL the two sessions
 * then hold different records over the same time: each holds those that were merged into it. A
 * record exactly at {@code h} that merges with nothing starts a session of its own that is no
 * longer merged from the start ({@link WindowRule.Assigned#AT_HORIZON}; the DSL replaces an equal
 * one, the correlator keeps both in the one window, see the README).
 *
 * <p><b>Contributors.</b> A session's contributors are the entries of its key in its time range
 * that were merged into it, told apart by when they arrived (the stream time at their append, from
 * the log's arrival lag) and by the log's mark of entries at the horizon:
 *
 * <ul>
 *   <li>A session {@code [s, e]} (inclusive) is merged as long as stream time is below {@code v = e
 *       + gap + grace}: its entries arrived before {@code v}; at {@code v} only those at the
 *       horizon that started it, when it is a single millisecond ({@code [e, e]}, started again).
 *       Entries of its range that arrived at or after {@code v} are a later session's.
 *   <li>A session that reaches back over older sessions no longer merged excludes their entries by
 *       one bound {@code x}, stored with it ({@link OpenWindows#register(byte[], long, long, long,
 *       long, long)}): the entries at or before {@code x} that arrived before {@code x + gap +
 *       grace} (or at it, at the horizon, unless the session is a single millisecond). When a
 *       record at {@code t <= h} reaches back below the first session it merges with (start {@code
 *       s1}), {@code x} is {@code min(s1 - 1, h)}, or the largest {@code x} of the sessions it
 *       merges, whichever is larger. Every older session it reaches over ends at or before {@code
 *       x} and so took its last entry before {@code x + gap + grace}; every entry of the new
 *       session at or before {@code x} arrived with or after the record, at stream time {@code h +
 *       gap + grace} or later, and any that came at that very stream time joined it (they are not
 *       at the horizon). Merging never rewrites entries: a record costs the same few store
 *       operations.
 * </ul>
 *
 * Sessions no longer merged stay registered until emitted, and can lie inside a later session's
 * range: looking for the session that reaches {@code t - gap} from before, the rule passes over
 * them to the last one still merged (sessions still merged do not overlap, so no earlier one can
 * reach further).
 */
final class SessionWindowRule implements WindowRule {

  private final WindowSpec spec;
  private final OpenWindows windows;
  private final ContributorLog log;

  SessionWindowRule(WindowSpec spec, OpenWindows windows, ContributorLog log) {
    this.spec = spec;
    this.windows = windows;
    this.log = log;
  }

  @Override
  public Assigned assign(byte[] key, long time, long before, long streamTime, long now) {
    long gap = spec.gapMs();
    long horizon = WindowSpec.minus(WindowSpec.minus(before, gap), spec.graceMs());
    // Exclusive ends at or below this are sessions no longer merged.
    long mergedAfter = WindowSpec.plus(horizon, 1);
    long earliestEnd = WindowSpec.minus(time, gap); // inclusive
    long latestStart = WindowSpec.plus(time, gap);
    List<Bytes> candidates = new ArrayList<>();
    // Sessions of this key within gap of time: the last one still merged starting at or before
    // time - gap (it may reach past it), and every one starting in (time - gap, time + gap].
    Bytes reaching = windows.lastStartingBy(key, earliestEnd, mergedAfter);
    if (reaching != null) {
      candidates.add(reaching);
    }
    candidates.addAll(windows.starting(key, WindowSpec.plus(earliestEnd, 1), latestStart));
    List<Bytes> merged = new ArrayList<>();
    long start = time;
    long end = WindowSpec.plus(time, 1);
    long firstMergedStart = Long.MAX_VALUE;
    long olderUntil = Long.MIN_VALUE;
    long spanStart = now;
    for (Bytes session : candidates) {
      long sessionStart = StateKeys.windowStart(session);
      long sessionEnd = StateKeys.windowEnd(session); // exclusive
      if (sessionEnd <= mergedAfter || sessionEnd <= earliestEnd || sessionStart > latestStart) {
        continue;
      }
      start = Math.min(start, sessionStart);
      end = Math.max(end, sessionEnd);
      firstMergedStart = Math.min(firstMergedStart, sessionStart);
      olderUntil = Math.max(olderUntil, windows.olderUntil(session));
      spanStart = Math.min(spanStart, windows.spanStart(session, now));
      merged.add(session);
    }
    if (spec.closeTime(end) <= streamTime) {
      return Assigned.LATE;
    }
    if (time <= horizon && time < firstMergedStart) {
      // It reaches back over sessions no longer merged, which end at or before the horizon.
      olderUntil = Math.max(olderUntil, Math.min(WindowSpec.minus(firstMergedStart, 1), horizon));
    }
    merged.forEach(windows::remove);
    windows.register(key, start, end, streamTime, spanStart, olderUntil);
    return merged.isEmpty() && time <= horizon ? Assigned.AT_HORIZON : Assigned.OPEN;
  }

  /** The entries merged into the session (see the class comment). */
  @Override
  public ContributorLog.Entries contributors(Bytes window) {
    long start = StateKeys.windowStart(window);
    long last = StateKeys.windowEnd(window) - 1;
    boolean single = start == last;
    long reach = WindowSpec.plus(spec.gapMs(), spec.graceMs());
    long closing = WindowSpec.plus(last, reach); // merged while stream time is below it
    long olderUntil = windows.olderUntil(window);
    long olderArrivedBefore = WindowSpec.plus(olderUntil, reach);
    return log.entries(
        StateKeys.groupKeyBytesOfWindow(window),
        start,
        last,
        (time, arrival, atHorizon) ->
            (arrival < closing || arrival == closing && atHorizon && single)
                && !(time <= olderUntil
                    && (arrival < olderArrivedBefore
                        || arrival == olderArrivedBefore && atHorizon && !single)));
  }

  /**
   * Keeps the entries from the earliest start among ALL the key's open sessions on (not only those
   * starting after the closed one: a later session may reach back below it, see {@link
   * WindowRule#free}).
   */
  @Override
  public void free(byte[] key, long closedStart) {
    log.free(key, closedStart, windows.earliestStart(key, Long.MIN_VALUE));
  }
}
