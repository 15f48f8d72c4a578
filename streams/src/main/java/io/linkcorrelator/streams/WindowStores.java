package io.linkcorrelator.streams;

import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The names of one window step's two state stores: the {@link ContributorLog} and the window state
 * (the {@link OpenWindows} and their close index, the {@link StreamTime}, the session rule's latest
 * end and the log's topic ids, each kind of key under its own first byte, see {@link StateKeys}).
 *
 * @param log the contributor log
 * @param windows the window state
 */
record WindowStores(String log, String windows) {

  /**
   * The stores of an aggregation named {@code name}: {@code <name>-contributors}, {@code -windows}.
   */
  static WindowStores named(String name) {
    return new WindowStores(name + "-contributors", name + "-windows");
  }

  /** The names, in the order a processor connects them. */
  String[] names() {
    return new String[] {log, windows};
  }

  /** Persistent key-value stores of bytes, logged (Kafka Streams' defaults). */
  Set<StoreBuilder<?>> builders() {
    // The window state is cached: a window opened and closed within one commit interval, and the
    // stream time stored whenever a window opens or closes, reach the changelog at most once per
    // key and commit.
    return Set.of(store(log), store(windows).withCachingEnabled());
  }

  private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(String name) {
    return Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray());
  }
}
