package io.linkcorrelator.app;

import io.linkcorrelator.streams.LinkedAggregations;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.utils.Bytes;
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
 *   <li>{@code correlator.windows.open}: open (group key, window) entries of the local tasks,
 *       counted in the window state ({@link LinkedAggregations#openWindows}: exact, a read of every
 *       open window's key);
 *   <li>{@code correlator.contributor_log.pages}: contributor log pages of the local tasks (a page
 *       holds the contributors of one key, event-time bucket and commit interval, each once,
 *       however many windows it is in): the log's {@code approximateNumEntries()} (RocksDB's {@code
 *       estimate-num-keys}), exact while nothing was deleted, an estimate once windows have closed.
 * </ul>
 *
 * Nothing is recorded while the stores cannot be queried (Kafka Streams not {@code RUNNING}).
 */
final class StoreGauges {

  private StoreGauges() {}

  static void register(Meter meter, KafkaStreams streams) {
    meter
        .upDownCounterBuilder("correlator.windows.open")
        .setDescription("Open windows of this instance's tasks")
        .setUnit("{window}")
        .buildWithCallback(
            gauge ->
                record(
                    gauge,
                    streams,
                    CorrelatorTopology.WINDOWS_STORE,
                    LinkedAggregations::openWindows));
    meter
        .upDownCounterBuilder("correlator.contributor_log.pages")
        .setDescription(
            "Contributor log pages held in the state of this instance's tasks (RocksDB's estimate)")
        .setUnit("{page}")
        .buildWithCallback(
            gauge ->
                record(
                    gauge,
                    streams,
                    CorrelatorTopology.LOG_STORE,
                    ReadOnlyKeyValueStore::approximateNumEntries));
  }

  private static void record(
      ObservableLongMeasurement gauge,
      KafkaStreams streams,
      String store,
      ToLongFunction<ReadOnlyKeyValueStore<Bytes, byte[]>> count) {
    if (streams.state() != KafkaStreams.State.RUNNING) {
      return;
    }
    try {
      gauge.record(
          count.applyAsLong(
              streams.store(
                  StoreQueryParameters.fromNameAndType(
                      store, QueryableStoreTypes.<Bytes, byte[]>keyValueStore()))));
    } catch (InvalidStateStoreException rebalancing) {
      // Not queryable right now (tasks moving): no value this time.
    }
  }
}
