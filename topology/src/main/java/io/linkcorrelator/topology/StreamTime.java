package io.linkcorrelator.topology;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The correlator's own event-time progress, against which windows close: the largest event time
 * among the records that reached the windows ({@value CorrelatorTopology#STREAM_TIME_STORE}). Not
 * the task's stream time, which Kafka Streams advances as it reads, before the capture step can
 * reject a far-future timestamp.
 *
 * <p>The window rules are handed the value of {@link #observe}; how progress is measured (here: the
 * largest event time) is this class's alone, so that another measure (e.g. the least over upstream
 * partitions after a repartition) can replace it without touching them.
 *
 * <p>It is stored by {@link #checkpoint()} whenever a window is registered or closed, not on every
 * record: between two such moments it only moved within open windows, so a restart that resumes
 * from the stored value neither reopens an emitted window nor closes one early.
 */
final class StreamTime {

  private final StoredLong value;

  StreamTime(KeyValueStore<Bytes, byte[]> store) {
    this.value = new StoredLong(store, (byte) 0);
  }

  /** Takes a record's event time into account and returns the stream time after it. */
  long observe(long eventTime) {
    return value.advanceTo(eventTime);
  }

  long current() {
    return value.get();
  }

  /** Stores the current value, if it moved. */
  void checkpoint() {
    value.checkpoint();
  }
}
