package io.linkcorrelator.streams;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The correlator's own event-time progress, against which windows close, kept in the window state
 * {@code <name>-windows}. Not the task's stream time, which Kafka Streams advances as it reads,
 * before the capture step can reject a far-future timestamp. It never goes back.
 *
 * <p>The window rules are handed its value; how progress is measured is this interface's alone:
 *
 * <ul>
 *   <li>{@link LatestEventTime}, without a repartition: the largest event time among the records
 *       that reached the windows, as Kafka Streams' per-task stream time;
 *   <li>{@link SlowestPartitionTime}, after a repartition: the least progress over the upstream
 *       source partitions that are active, so a partition that lags does not see its windows close.
 * </ul>
 *
 * <p>It is stored by {@link #checkpoint()} whenever a window is registered or closed, not on every
 * record: between two such moments it only moved within open windows, so a restart that resumes
 * from the stored value neither reopens an emitted window nor closes one early.
 */
interface StreamTime {

  /**
   * Takes a record of source partition {@code topic}-{@code partition} at {@code eventTime} into
   * account.
   *
   * @param wallClock the wall-clock time now
   * @return the stream time after it
   */
  long observe(String topic, int partition, long eventTime, long wallClock);

  /**
   * Takes a progress marker into account (only after a repartition).
   *
   * @return the stream time after it
   */
  default long observe(Progress progress, long wallClock) {
    return observe(progress.topic(), progress.partition(), progress.eventTime(), wallClock);
  }

  /**
   * Re-evaluates at {@code wallClock} without a record (a partition may have become idle).
   *
   * @return the stream time
   */
  long tick(long wallClock);

  /** The stream time. */
  long current();

  /** Raises the stream time to {@code time} (windows were closed by the wall clock). */
  void advanceTo(long time);

  /** Stores what moved. */
  void checkpoint();

  /**
   * The measure the topology needs: the slowest active upstream partition when it repartitions,
   * otherwise the latest event time.
   */
  static StreamTime of(
      boolean repartitions, long partitionIdleMs, KeyValueStore<Bytes, byte[]> store, long now) {
    return repartitions
        ? new SlowestPartitionTime(store, partitionIdleMs, now)
        : new LatestEventTime(store);
  }
}
