package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The contributors of a linked DSL aggregation that a result may still link: one entry per accepted
 * record, keyed by the group key's bytes, the record's event time and the original record's
 * partition, offset and topic (a record read again after a failure overwrites its own entry),
 * valued with the time after which no result can link it any more and the {@link Contribution}. A
 * result reads its window's range.
 *
 * <p>Entries leave once no result can link them; each is removed once, so the work stays constant
 * per record. A tumbling or hopping window's result removes the records that no later window of its
 * key can hold (those before the next window's start). A sliding window's record expires with its
 * event time, and a session's record gets an expiry when its session emits ({@link #expireAt}),
 * since Kafka Streams may still merge an emitted session with a later record until the session
 * leaves its store: such entries are indexed by expiry too, and a result removes those that expired
 * before the stream time it was emitted at ({@link #expireBefore}). Updates remove what they link.
 */
final class Contributors {

  /** No expiry yet: a session's record until its session emits; an update's record. */
  static final long NEVER = Long.MAX_VALUE;

  private static final byte ENTRY = 1;
  private static final byte BY_EXPIRY = 2;
  private static final byte[] EMPTY = new byte[0];

  private final KeyValueStore<Bytes, byte[]> store;

  Contributors(KeyValueStore<Bytes, byte[]> store) {
    this.store = store;
  }

  /** Adds a record; it expires at {@code expiry} ({@link #NEVER}: only when linked or set). */
  void append(byte[] groupKey, Contribution contribution, long expiry) {
    Bytes entry = entryKey(groupKey, contribution.timestamp(), contribution);
    put(entry, expiry, ContributionSerde.encode(contribution));
  }

  /**
   * Feeds the contributors of {@code groupKey} with event times in {@code [from, to]} to {@code
   * sink} in event-time order, and removes them when {@code remove}.
   */
  void forEach(byte[] groupKey, long from, long to, boolean remove, Consumer<Contribution> sink) {
    forEach(groupKey, from, to, remove ? REMOVE : KEEP, sink);
  }

  /** Feeds them to {@code sink} and sets their expiry to {@code expiry}. */
  void expireAt(byte[] groupKey, long from, long to, long expiry, Consumer<Contribution> sink) {
    forEach(groupKey, from, to, expiry, sink);
  }

  private static final long KEEP = Long.MIN_VALUE;
  private static final long REMOVE = Long.MIN_VALUE + 1;

  private void forEach(
      byte[] groupKey, long from, long to, long action, Consumer<Contribution> sink) {
    Bytes lower = Bytes.wrap(entryPrefix(groupKey, from));
    Bytes upper = Bytes.wrap(entryPrefix(groupKey, to == Long.MAX_VALUE ? to : to + 1));
    try (KeyValueIterator<Bytes, byte[]> entries = store.range(lower, upper)) {
      while (entries.hasNext()) {
        var entry = entries.next();
        long expiry = ByteBuffer.wrap(entry.value).getLong();
        byte[] contribution = Arrays.copyOfRange(entry.value, 8, entry.value.length);
        sink.accept(ContributionSerde.decode(contribution));
        if (action == KEEP || action == expiry) {
          continue;
        }
        if (expiry != NEVER) {
          store.delete(expiryKey(expiry, entry.key));
        }
        if (action == REMOVE) {
          store.delete(entry.key);
        } else {
          put(entry.key, action, contribution);
        }
      }
    }
  }

  /** Removes every record, of every key, whose expiry is before {@code time}. */
  void expireBefore(long time) {
    Bytes lower = Bytes.wrap(new byte[] {BY_EXPIRY});
    Bytes upper =
        Bytes.wrap(ByteBuffer.allocate(9).put(BY_EXPIRY).putLong(time ^ Long.MIN_VALUE).array());
    try (KeyValueIterator<Bytes, byte[]> expired = store.range(lower, upper)) {
      while (expired.hasNext()) {
        Bytes key = expired.next().key;
        long expiry = ByteBuffer.wrap(key.get(), 1, 8).getLong() ^ Long.MIN_VALUE;
        if (expiry >= time) {
          break; // the upper bound is inclusive
        }
        store.delete(key);
        Bytes entry = Bytes.wrap(Arrays.copyOfRange(key.get(), 9, key.get().length));
        byte[] value = store.get(entry);
        if (value != null && ByteBuffer.wrap(value).getLong() == expiry) {
          store.delete(entry); // not given a later expiry since
        }
      }
    }
  }

  private void put(Bytes entry, long expiry, byte[] contribution) {
    store.put(
        entry,
        ByteBuffer.allocate(8 + contribution.length).putLong(expiry).put(contribution).array());
    if (expiry != NEVER) {
      store.put(expiryKey(expiry, entry), EMPTY);
    }
  }

  /** [ENTRY][key length][key][event time, sign flipped][partition][offset][topic]. */
  private static Bytes entryKey(byte[] groupKey, long time, Contribution c) {
    byte[] topic = c.topic().getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(
        ByteBuffer.allocate(1 + 4 + groupKey.length + 8 + 12 + topic.length)
            .put(ENTRY)
            .putInt(groupKey.length)
            .put(groupKey)
            .putLong(time ^ Long.MIN_VALUE)
            .putInt(c.partition())
            .putLong(c.offset())
            .put(topic)
            .array());
  }

  /** [BY_EXPIRY][expiry, sign flipped][the entry's key]. */
  private static Bytes expiryKey(long expiry, Bytes entry) {
    return Bytes.wrap(
        ByteBuffer.allocate(9 + entry.get().length)
            .put(BY_EXPIRY)
            .putLong(expiry ^ Long.MIN_VALUE)
            .put(entry.get())
            .array());
  }

  /** The key's entries from this time on (time flipped so that negative times sort first). */
  private static byte[] entryPrefix(byte[] groupKey, long time) {
    return ByteBuffer.allocate(1 + 4 + groupKey.length + 8)
        .put(ENTRY)
        .putInt(groupKey.length)
        .put(groupKey)
        .putLong(time ^ Long.MIN_VALUE)
        .array();
  }
}
