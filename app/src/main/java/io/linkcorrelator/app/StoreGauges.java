package io.linkcorrelator.app;

import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Gauges of what this instance holds, read through Kafka Streams' interactive queries (safe from
 * the metric reader's thread, and right after a restart or a rebalance, since they read the stores
 * themselves) when the meter provider collects:
 *
 * <ul>
 *   <li>{@code correlator.windows.open}: open (group key, window) entries of the local tasks;
 *   <li>{@code correlator.contributor_log.pages}: contributor log pages of the local tasks (a page
 *       holds the contributors of one key, event-time bucket and commit interval, each once,
 *       however many windows it is in).
 * </ul>
 *
 * <p>Both are the stores' {@code approximateNumEntries()} (RocksDB's {@code estimate-num-keys}):
 * exact while nothing was deleted, an estimate once windows have closed. Nothing is recorded while
 * the stores cannot be queried (Kafka Streams not {@code RUNNING}).
 */
final class StoreGauges {

  private StoreGauges() {}

  static void register(Meter meter, KafkaStreams streams) {
    meter
        .upDownCounterBuilder("correlator.windows.open")
        .setDescription("Open windows of this instance's tasks (RocksDB's estimate)")
        .setUnit("{window}")
        .buildWithCallback(gauge -> record(gauge, streams, CorrelatorTopology.WINDOWS_STORE));
    meter
        .upDownCounterBuilder("correlator.contributor_log.pages")
        .setDescription(
            "Contributor log pages held in the state of this instance's tasks (RocksDB's estimate)")
        .setUnit("{page}")
        .buildWithCallback(gauge -> record(gauge, streams, CorrelatorTopology.LOG_STORE));
  }

  private static void record(ObservableLongMeasurement gauge, KafkaStreams streams, String store) {
    if (streams.state() != KafkaStreams.State.RUNNING) {
      return;
    }
    try {
      ReadOnlyKeyValueStore<Object, Object> entries =
          streams.store(
              StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.keyValueStore()));
      gauge.record(entries.approximateNumEntries());
    } catch (InvalidStateStoreException rebalancing) {
      // Not queryable right now (tasks moving): no value this time.
    }
  }
}
