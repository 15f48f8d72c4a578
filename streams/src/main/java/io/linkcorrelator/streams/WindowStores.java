package io.linkcorrelator.streams;

import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The names of one window step's four state stores: the {@link ContributorLog}, the {@link
 * OpenWindows} and their close index, and the {@link StreamTime}.
 *
 * @param log the contributor log
 * @param windows the open windows
 * @param closeIndex the close index
 * @param streamTime the stream time
 */
record WindowStores(String log, String windows, String closeIndex, String streamTime) {

  /** The stores of an aggregation named {@code name}: {@code <name>-contributors} and so on. */
  static WindowStores named(String name) {
    return new WindowStores(
        name + "-contributors", name + "-windows", name + "-close-index", name + "-stream-time");
  }

  /** The names, in the order a processor connects them. */
  String[] names() {
    return new String[] {log, windows, closeIndex, streamTime};
  }

  /**
   * Persistent key-value stores of bytes, logged (Kafka Streams' defaults); the log cached, its
   * cache's writes counted by {@code flushes} (the log's generations, see {@link ContributorLog}).
   */
  Set<StoreBuilder<?>> builders(CacheFlushes flushes) {
    // Stream time is stored whenever a window opens or closes: the cache folds those writes into
    // at most one changelog record per key and commit.
    return Set.of(
        Stores.keyValueStoreBuilder(flushes.supplier(log), Serdes.Bytes(), Serdes.ByteArray())
            .withCachingEnabled(),
        store(windows),
        store(closeIndex),
        store(streamTime).withCachingEnabled());
  }

  private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(String name) {
    return Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray());
  }
}
