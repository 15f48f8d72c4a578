package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A number that only grows, kept under one key of a store: read once, written when it changed and
 * {@link #checkpoint()} is called.
 */
final class StoredLong {

  private final KeyValueStore<Bytes, byte[]> store;
  private final Bytes key;
  private long value;
  private long stored;

  /**
   * @param store the window state
   * @param kind the value's key, {@link StateKeys#STREAM_TIME}
   */
  StoredLong(KeyValueStore<Bytes, byte[]> store, byte kind) {
    this.store = store;
    this.key = StateKeys.single(kind);
    byte[] bytes = store.get(key);
    this.value = bytes == null ? Long.MIN_VALUE : ByteBuffer.wrap(bytes).getLong();
    this.stored = value;
  }

  long get() {
    return value;
  }

  /** Raises the value to {@code candidate} if that is larger; returns the value. */
  long advanceTo(long candidate) {
    value = Math.max(value, candidate);
    return value;
  }

  /** Stores the value, if it changed. */
  void checkpoint() {
    if (value != stored) {
      store.put(key, ByteBuffer.allocate(8).putLong(value).array());
      stored = value;
    }
  }
}
