package io.linkcorrelator.streams;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Stream time as Kafka Streams keeps it per task: the largest event time seen, wherever it came
 * from. Right when every record of a task comes from one upstream partition (no repartition).
 */
final class LatestEventTime implements StreamTime {

  private final StoredLong value;

  LatestEventTime(KeyValueStore<Bytes, byte[]> store) {
    this.value = new StoredLong(store, StateKeys.STREAM_TIME);
  }

  @Override
  public long observe(String topic, int partition, long eventTime, long wallClock) {
    return value.advanceTo(eventTime);
  }

  @Override
  public long tick(long wallClock) {
    return value.get();
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
  }
}
