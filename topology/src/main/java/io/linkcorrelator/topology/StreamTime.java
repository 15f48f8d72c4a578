package io.linkcorrelator.topology;

import java.nio.ByteBuffer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The correlator's own event-time progress, against which windows close: the largest event time
 * among the records that reached the windows ({@value CorrelatorTopology#STREAM_TIME_STORE}). Not
 * the task's stream time, which Kafka Streams advances as it reads, before the capture step can
 * reject a far-future timestamp.
 *
 * <p>The window rules only ask {@link #observe} and {@link #current}; how progress is measured
 * (here: the maximum event time) is this class's alone, so that another measure (e.g. the minimum
 * over upstream partitions after a repartition) can replace it.
 *
 * <p>It is stored by {@link #checkpoint()} whenever a window is registered or closed, not on every
 * record: between two such moments it only moved within open windows, so a restart that resumes
 * from the stored value neither reopens an emitted window nor closes one early.
 */
final class StreamTime {

  private static final Bytes KEY = Bytes.wrap(new byte[] {0});

  private final KeyValueStore<Bytes, byte[]> store;
  private long current;
  private long stored;

  StreamTime(KeyValueStore<Bytes, byte[]> store) {
    this.store = store;
    byte[] value = store.get(KEY);
    this.current = value == null ? Long.MIN_VALUE : ByteBuffer.wrap(value).getLong();
    this.stored = current;
  }

  /** Takes a record's event time into account and returns the stream time after it. */
  long observe(long eventTime) {
    current = Math.max(current, eventTime);
    return current;
  }

  long current() {
    return current;
  }

  /** Stores the current value, if it moved. */
  void checkpoint() {
    if (current != stored) {
      store.put(KEY, ByteBuffer.allocate(8).putLong(current).array());
      stored = current;
    }
  }
}
