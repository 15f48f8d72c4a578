package io.linkcorrelator.streams;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The contributor log ({@code <name>-contributors}): one entry per accepted message, keyed by
 * (group key, event time, original message), written once, whatever the window type and however
 * many windows the message falls in. A window's contributors are the entries of its key in its time
 * range.
 */
final class ContributorLog {

  private static final int BATCH = 1_000;

  private final KeyValueStore<Bytes, byte[]> store;

  ContributorLog(KeyValueStore<Bytes, byte[]> store) {
    this.store = store;
  }

  void append(byte[] key, Contribution contribution) {
    store.put(StateKeys.log(key, contribution), ContributionSerde.encode(contribution));
  }

  /** The entries of key with event times in [from, to], in event-time order. */
  KeyValueIterator<Bytes, byte[]> entries(byte[] key, long from, long to) {
    return store.range(StateKeys.logFrom(key, from), StateKeys.logTo(key, to));
  }

  /** Whether key has an entry with an event time in [from, to]. */
  boolean any(byte[] key, long from, long to) {
    if (from > to) {
      return false;
    }
    try (KeyValueIterator<Bytes, byte[]> entries = entries(key, from, to)) {
      return entries.hasNext();
    }
  }

  /**
   * Deletes the entries of key with event times in [from, to), in batches (deleting while iterating
   * a store is not allowed).
   */
  void free(byte[] key, long from, long to) {
    if (from >= to) {
      return;
    }
    List<Bytes> free = new ArrayList<>();
    do {
      free.clear();
      try (KeyValueIterator<Bytes, byte[]> entries = entries(key, from, to - 1)) {
        while (entries.hasNext() && free.size() < BATCH) {
          free.add(entries.next().key);
        }
      }
      free.forEach(store::delete);
    } while (free.size() == BATCH);
  }
}
