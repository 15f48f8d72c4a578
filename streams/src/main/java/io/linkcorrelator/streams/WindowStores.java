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
   * Key-value stores of bytes, both logged: the log persistent (RocksDB: it grows with the
   * contributors), the window state in memory (it holds a few entries per open window, however many
   * contributors the window has) and cached. In memory, a commit costs the window state no RocksDB
   * write (TopologyTestDriver commits after every record); its changelog is compacted and read back
   * whole when a task starts. Cached, a window opened and closed within one commit interval, and
   * the stream time stored whenever a window opens or closes, reach the changelog at most once per
   * key and commit.
   */
  Set<StoreBuilder<?>> builders() {
    return Set.of(
        store(Stores.persistentKeyValueStore(log)),
        store(Stores.inMemoryKeyValueStore(windows)).withCachingEnabled());
  }

  private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(
      KeyValueBytesStoreSupplier supplier) {
    return Stores.keyValueStoreBuilder(supplier, Serdes.Bytes(), Serdes.ByteArray());
  }
}
