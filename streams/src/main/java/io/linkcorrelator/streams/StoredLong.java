package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A number that only grows, kept under one key of a store: read once, written when it changed and
 * {@link #checkpoint()} is called.
 */
final class StoredLong {

  /** The id of the stream time in {@code <name>-stream-time}. */
  static final byte STREAM_TIME = 0;

  /** The id of the session rule's latest session end in the same store. */
  static final byte LATEST_SESSION_END = 1;

  private final KeyValueStore<Bytes, byte[]> store;
  private final Bytes key;
  private long value;
  private long stored;

  StoredLong(KeyValueStore<Bytes, byte[]> store, byte id) {
    this.store = store;
    this.key = Bytes.wrap(new byte[] {id});
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
