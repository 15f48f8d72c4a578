package io.linkcorrelator.app;

import io.linkcorrelator.streams.GroupKeys;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The application's group keys as the linked aggregation's key serde: a key's text ({@link
 * GroupKeys}) is written as the bytes it was made of, so the aggregation's state, its spans' {@code
 * correlator.group_key} and the result all show the same text.
 */
final class GroupKeySerde {

  private GroupKeySerde() {}

  static final Serde<String> INSTANCE =
      Serdes.serdeFrom(
          (topic, key) -> key == null ? null : GroupKeys.bytes(key),
          (topic, bytes) -> GroupKeys.of(bytes));
}
