package io.linkcorrelator.streams;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;

/**
 * Session windows, as Kafka Streams' {@code KStreamSessionWindowAggregate}: a record at {@code t}
 * merges with every session of its key that ends at or after {@code t - gap} and starts at or
 * before {@code t + gap}; the record is late only when the merged session has closed (its last
 * record plus gap plus grace is before stream time). Like the DSL, whose session store no longer
 * returns a session in the last millisecond before it closes, such a session is not merged: the
 * record starts a session of its own.
 */
final class SessionWindowRule implements WindowRule {

  private final WindowSpec spec;
  private final OpenWindows windows;
  private final ContributorLog log;
  private final StoredLong latestEnd;

  SessionWindowRule(
      WindowSpec spec, OpenWindows windows, ContributorLog log, StoredLong latestEnd) {
    this.spec = spec;
    this.windows = windows;
    this.log = log;
    this.latestEnd = latestEnd;
  }

  @Override
  public boolean assign(byte[] key, long time, long streamTime, long now) {
    long gap = spec.gapMs();
    // As the DSL's session store, which returns only sessions within its retention (gap + grace)
    // of the latest session end it stored: a session whose last millisecond is at or before
    // latestEnd - gap - grace is not merged (though it may close only a little later), and the
    // record starts a session of its own.
    long visibleFromEnd =
        Math.max(
            WindowSpec.minus(time, gap),
            WindowSpec.plus(
                WindowSpec.minus(WindowSpec.minus(latestEnd.get(), gap), spec.graceMs()), 1));
    long latestStart = WindowSpec.plus(time, gap);
    List<Bytes> merged = new ArrayList<>();
    long start = time;
    long end = WindowSpec.plus(time, 1);
    long spanStart = now;
    // Sessions of this key within gap of time: the last one starting at or before time - gap (it
    // may reach past it), and every one starting in (time - gap, time + gap].
    List<Bytes> candidates = new ArrayList<>();
    Bytes reaching = windows.lastStartingBy(key, WindowSpec.minus(time, gap));
    if (reaching != null) {
      candidates.add(reaching);
    }
    candidates.addAll(
        windows.starting(key, WindowSpec.plus(WindowSpec.minus(time, gap), 1), latestStart));
    for (Bytes session : candidates) {
      long sessionStart = StateKeys.windowStart(session);
      long sessionEnd = StateKeys.windowEnd(session);
      if (sessionEnd <= visibleFromEnd || sessionStart > latestStart) { // end is exclusive
        continue;
      }
      start = Math.min(start, sessionStart);
      end = Math.max(end, sessionEnd);
      spanStart = Math.min(spanStart, windows.spanStart(session, now));
      merged.add(session);
    }
    if (spec.closeTime(end) <= streamTime) {
      return false;
    }
    merged.forEach(windows::remove);
    latestEnd.advanceTo(end - 1);
    return windows.register(key, start, end, streamTime, spanStart);
  }

  /** Sessions do not overlap: keeps the entries from the key's next open session on. */
  @Override
  public void free(byte[] key, long closedStart) {
    log.free(key, closedStart, windows.earliestStart(key, closedStart));
  }
}
