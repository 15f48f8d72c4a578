package io.linkcorrelator.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaIT {

  @AutoClose private static final EmbeddedKafka kafka = EmbeddedKafka.start();

  @Test
  void createsTopicsWithTheRequestedPartitions() throws Exception {
    kafka.createTopics(4, "four-a", "four-b");
    try (Admin admin = kafka.admin()) {
      Map<String, TopicDescription> topics =
          admin.describeTopics(Set.of("four-a", "four-b")).allTopicNames().get();
      assertThat(topics.get("four-a").partitions()).hasSize(4);
      assertThat(topics.get("four-b").partitions()).hasSize(4);
    }
  }

  @Test
  void producesAndConsumesThroughTheBroker() throws Exception {
    kafka.createTopic("plain", 3);
    try (KafkaProducer<String, String> producer = producer(Map.of())) {
      for (int i = 0; i < 30; i++) {
        producer.send(new ProducerRecord<>("plain", "key-" + (i % 5), "value-" + i)).get();
      }
    }

    List<ConsumerRecord<String, String>> read = consume("plain", 30, "read_uncommitted");

    assertThat(read).extracting(ConsumerRecord::value).hasSize(30).contains("value-0", "value-29");
    assertThat(read).extracting(ConsumerRecord::partition).containsAnyOf(0, 1, 2);
    assertThat(read.stream().map(ConsumerRecord::partition).distinct().count())
        .as("5 keys over 3 partitions use more than one")
        .isGreaterThan(1);
  }

  @Test
  void aReadCommittedConsumerSeesCommittedTransactionsOnly() throws Exception {
    kafka.createTopic("transactional", 1);
    try (KafkaProducer<String, String> producer =
        producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "embedded-it-tx"))) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("transactional", "k", "committed-1"));
      producer.send(new ProducerRecord<>("transactional", "k", "committed-2"));
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("transactional", "k", "aborted"));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("transactional", "k", "committed-3"));
      producer.commitTransaction();
    }

    List<ConsumerRecord<String, String>> read = consume("transactional", 3, "read_committed");

    assertThat(read)
        .extracting(ConsumerRecord::value)
        .containsExactly("committed-1", "committed-2", "committed-3");
  }

  @Test
  void aStoppedBrokerComesBackOnTheSamePortWithItsData() throws Exception {
    kafka.createTopic("survives-restart", 1);
    try (KafkaProducer<String, String> producer = producer(Map.of())) {
      producer.send(new ProducerRecord<>("survives-restart", "k", "before")).get();
    }
    String bootstrap = kafka.bootstrapServers();

    kafka.stop();
    kafka.restart();

    assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
    try (KafkaProducer<String, String> producer = producer(Map.of())) {
      producer.send(new ProducerRecord<>("survives-restart", "k", "after")).get();
    }
    assertThat(consume("survives-restart", 2, "read_uncommitted"))
        .extracting(ConsumerRecord::value)
        .containsExactly("before", "after");
  }

  private static KafkaProducer<String, String> producer(Map<String, Object> extra) {
    Map<String, Object> props = new java.util.HashMap<>(extra);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  private static List<ConsumerRecord<String, String>> consume(
      String topic, int expected, String isolation) {
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            "it-" + topic,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            isolation);
    List<ConsumerRecord<String, String>> read = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(read::add);
      }
      // One more poll: nothing beyond what is expected may show up (e.g. an aborted record).
      consumer.poll(Duration.ofMillis(500)).forEach(read::add);
    }
    return read;
  }
}
