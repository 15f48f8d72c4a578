package io.linkcorrelator.streams;

import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
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

  /**
   * Persistent key-value stores of bytes, logged (Kafka Streams' defaults). The log is cached, its
   * cache's writes counted by {@code flushes} (the log's generations, see {@link ContributorLog}).
   * The window state is not cached: it is read by range (the close index, a key's windows), and
   * both Kafka's record cache and its in-memory store copy a range's keys before iterating them, so
   * a range over the close index would cost the open windows' number; RocksDB's iterators read
   * lazily. (The log's ranges are one key's buckets: what the cache copies there is a few pages.)
   */
  Set<StoreBuilder<?>> builders(CacheFlushes flushes) {
    return Set.of(
        store(flushes.supplier(log)).withCachingEnabled(),
        store(Stores.persistentKeyValueStore(windows)));
  }

  private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(
      KeyValueBytesStoreSupplier supplier) {
    return Stores.keyValueStoreBuilder(supplier, Serdes.Bytes(), Serdes.ByteArray());
  }
}
