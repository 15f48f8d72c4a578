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
 * (the {@link OpenWindows}, the {@link StreamTime}, upstream progress and the log's topic ids, each
 * kind of key under its own first byte, see {@link StateKeys}).
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
   * Key-value stores of bytes, logged, each behind {@code flushes} ({@link CacheFlushes}). The log
   * is persistent (RocksDB: it holds every contributor of the open windows) and has no record
   * cache: it keeps its open pages itself and writes them before every commit ({@link
   * CacheFlushes#beforeCommit}). The window state is in memory and cached: one small entry per open
   * window and a few numbers, restored from its changelog when a task starts; its cache turns a
   * window opened and closed within one commit interval into one changelog record at most, and
   * repeated stream-time writes into one per commit.
   *
   * <p>Kafka's record cache and its in-memory store copy a range's keys before iterating them, so
   * no range may span the open windows: the close index is kept in memory by {@link OpenWindows};
   * the remaining ranges are one group key's windows (the rules' {@link OpenWindows#starting},
   * {@link OpenWindows#anyStarting}, {@link OpenWindows#lastStartingBy} and {@link
   * OpenWindows#earliestStart}: a few windows for tumbling, hopping and session windows, the key's
   * records within the time difference plus grace for sliding ones), one kind's few keys ({@link
   * SlowestPartitionTime}, the log's topic ids, {@link StateKeys#refuseEarlierLayout}), and, once
   * per task start, the open windows ({@link OpenWindows}'s index) and the previous layout's close
   * index. The log's ranges are one key's buckets.
   */
  Set<StoreBuilder<?>> builders(CacheFlushes flushes) {
    return Set.of(
        store(flushes.supplier(Stores.persistentKeyValueStore(log))),
        store(flushes.supplier(Stores.inMemoryKeyValueStore(windows))).withCachingEnabled());
  }

  private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(
      KeyValueBytesStoreSupplier supplier) {
    return Stores.keyValueStoreBuilder(supplier, Serdes.Bytes(), Serdes.ByteArray());
  }
}
