package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HealthServerTest {

  private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
  private final HealthServer server = HealthServer.start(0, state::get);
  private final HttpClient client = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @ParameterizedTest
  @EnumSource(State.class)
  void readyOnlyWhileRunning(State current) throws Exception {
    state.set(current);
    HttpResponse<String> response = get(HealthServer.READY_PATH);
    assertThat(response.statusCode()).isEqualTo(current == State.RUNNING ? 200 : 503);
    assertThat(response.body()).contains("\"state\":\"" + current + "\"");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
  }

  @ParameterizedTest
  @EnumSource(State.class)
  void aliveUnlessKafkaStreamsFailedForGood(State current) throws Exception {
    state.set(current);
    boolean failed = current == State.ERROR || current == State.PENDING_ERROR;
    HttpResponse<String> response = get(HealthServer.LIVE_PATH);
    assertThat(response.statusCode()).isEqualTo(failed ? 503 : 200);
    assertThat(response.body()).contains(failed ? "\"status\":\"DOWN\"" : "\"status\":\"UP\"");
  }

  @Test
  void aPortInUseFailsNamingTheKey() {
    assertThatThrownBy(() -> HealthServer.start(server.port(), state::get))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(AppConfig.HEALTH_PORT)
        .hasMessageContaining(String.valueOf(server.port()));
  }

  @Test
  void answersOnlyReads() throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + HealthServer.READY_PATH))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(405);
  }
}
