package io.linkcorrelator.streams;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Partitions the repartition topic: a contribution goes to the partition of its group key, as
 * Kafka's default partitioner places a key (murmur2 of the key's bytes); a {@link Progress} marker
 * goes to every partition (KIP-837 multicast), so every window task learns every upstream
 * partition's progress.
 */
final class ProgressPartitioner implements StreamPartitioner<String, Captured> {

  static final ProgressPartitioner INSTANCE = new ProgressPartitioner();

  private ProgressPartitioner() {}

  @Override
  public Optional<Set<Integer>> partitions(
      String topic, String key, Captured value, int numPartitions) {
    if (value instanceof Progress) {
      return Optional.of(
          IntStream.range(0, numPartitions).boxed().collect(Collectors.toUnmodifiableSet()));
    }
    byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
    return Optional.of(Set.of(Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions));
  }
}
