package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Stream time after a repartition, as Flink's per-partition watermarks through a shuffle: each
 * upstream source partition's progress (the largest event time the capture step accepted from it,
 * learnt from its records and its {@link Progress} markers) is kept, and stream time is the least
 * progress over the partitions that are <em>active</em> — whose progress moved within the last
 * {@code correlator.partition.idle.ms} of wall-clock time. A partition that lags therefore holds
 * the windows open until its records have arrived; one that has gone silent stops holding them
 * after the idleness timeout, and holds them again as soon as it moves. When every partition is
 * idle, stream time is the largest progress (what Kafka Streams' per-task stream time would be).
 *
 * <p>Per record the work is one map lookup and a pass over the known upstream partitions (their
 * number, never the windows' size). Progress is stored in the window state (see {@link StateKeys})
 * with the stream time, so a restart neither forgets a lagging partition nor closes windows early;
 * after a restart every known partition counts as active until it has been idle for the timeout.
 */
final class SlowestPartitionTime implements StreamTime {

  private final KeyValueStore<Bytes, byte[]> store;
  private final long idleMs;
  private final StoredLong value;
  private final Map<Bytes, Upstream> upstreams = new HashMap<>();
  private String lastTopic;
  private int lastPartition;
  private Upstream lastUpstream;

  private static final class Upstream {
    long progress = Long.MIN_VALUE;
    long stored = Long.MIN_VALUE;
    long movedAt;

    Upstream(long movedAt) {
      this.movedAt = movedAt;
    }
  }

  SlowestPartitionTime(KeyValueStore<Bytes, byte[]> store, long idleMs, long now) {
    this.store = store;
    this.idleMs = idleMs;
    this.value = new StoredLong(store, StateKeys.STREAM_TIME);
    try (KeyValueIterator<Bytes, byte[]> stored =
        store.range(StateKeys.progressFrom(), StateKeys.progressTo())) {
      stored.forEachRemaining(
          entry -> {
            if (entry.key.get()[0] == StateKeys.PROGRESS) {
              Upstream upstream = new Upstream(now);
              upstream.progress = ByteBuffer.wrap(entry.value).getLong();
              upstream.stored = upstream.progress;
              upstreams.put(entry.key, upstream);
            }
          });
    }
    if (upstreams.isEmpty()) {
      // First start: no upstream partition has reported yet. Hold stream time as an active
      // partition would, so that every capture task gets the idle time to report before any
      // window closes (never stored: its progress never moves).
      upstreams.put(StateKeys.single(StateKeys.PROGRESS), new Upstream(now));
    }
  }

  @Override
  public long observe(String topic, int partition, long eventTime, long wallClock) {
    Upstream upstream = upstream(topic, partition, wallClock);
    if (eventTime > upstream.progress) {
      upstream.progress = eventTime;
      upstream.movedAt = wallClock;
    }
    return tick(wallClock);
  }

  @Override
  public long tick(long wallClock) {
    long slowestActive = Long.MAX_VALUE;
    long fastest = Long.MIN_VALUE;
    for (Upstream upstream : upstreams.values()) {
      fastest = Math.max(fastest, upstream.progress);
      if (WindowSpec.minus(wallClock, upstream.movedAt) < idleMs) {
        slowestActive = Math.min(slowestActive, upstream.progress);
      }
    }
    return value.advanceTo(slowestActive == Long.MAX_VALUE ? fastest : slowestActive);
  }

  @Override
  public long current() {
    return value.get();
  }

  @Override
  public void advanceTo(long time) {
    value.advanceTo(time);
  }

  @Override
  public void checkpoint() {
    value.checkpoint();
    upstreams.forEach(
        (key, upstream) -> {
          if (upstream.progress != upstream.stored) {
            store.put(key, ByteBuffer.allocate(8).putLong(upstream.progress).array());
            upstream.stored = upstream.progress;
          }
        });
  }

  /**
   * The upstream partition's entry. Records of a task come from few partitions, mostly in runs of
   * one, so the last one is kept at hand: no key is built per record.
   */
  private Upstream upstream(String topic, int partition, long wallClock) {
    if (partition != lastPartition || !topic.equals(lastTopic)) {
      lastUpstream =
          upstreams.computeIfAbsent(
              StateKeys.progress(topic, partition), k -> new Upstream(wallClock));
      lastTopic = topic;
      lastPartition = partition;
    }
    return lastUpstream;
  }
}
