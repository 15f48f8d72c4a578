package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

/**
 * A task's commits are the writes that reach its cached store while its processor is not in a call.
 */
class CacheFlushesTest {

  private static final Bytes PAGE = Bytes.wrap(new byte[] {1, 'k'});

  @Test
  void aWriteInsideTheProcessorsCallIsAnEvictionNotACommit() {
    CacheFlushes.Commits commits = new CacheFlushes.Commits();
    commits.enter();
    commits.written(PAGE);
    assertThat(commits.leave()).isFalse();
    commits.left();
    assertThat(commits.count()).isZero();
  }

  @Test
  void aWriteBetweenTheProcessorsCallsIsACommitsFlush() {
    CacheFlushes.Commits commits = new CacheFlushes.Commits();
    commits.enter();
    commits.mark();
    commits.leave();
    commits.left();

    commits.written(CacheFlushes.COMMIT_MARKER);
    assertThat(commits.count()).isEqualTo(1);
  }

  @Test
  void aMarkerEvictedInsideACallIsPutAgainBeforeTheCallEnds() {
    CacheFlushes.Commits commits = new CacheFlushes.Commits();
    commits.enter();
    commits.mark();
    commits.written(PAGE); // another entry evicted: the marker is still in the cache
    commits.written(CacheFlushes.COMMIT_MARKER); // evicted by a later put of the same call
    assertThat(commits.leave()).as("put the marker again").isTrue();
    commits.left();
    assertThat(commits.count()).isZero();

    commits.enter();
    assertThat(commits.leave()).as("once").isFalse();
    commits.left();
  }

  @Test
  void noMarkerIsPutAgainOnceTheCommitWasSeen() {
    CacheFlushes.Commits commits = new CacheFlushes.Commits();
    commits.enter();
    commits.mark();
    commits.leave();
    commits.left();
    commits.written(CacheFlushes.COMMIT_MARKER); // the commit

    commits.enter();
    commits.written(CacheFlushes.COMMIT_MARKER); // an old marker's eviction, no commit awaited
    assertThat(commits.leave()).isFalse();
    commits.left();
    assertThat(commits.count()).isEqualTo(1);
  }

  @Test
  void theCommitMarkerSortsBeforeEveryKeyOfTheLog() {
    Bytes first = StateKeys.logFrom(new byte[0], Long.MIN_VALUE);
    assertThat(CacheFlushes.COMMIT_MARKER.compareTo(first)).isNegative();
    assertThat(CacheFlushes.COMMIT_MARKER.compareTo(StateKeys.logTopicIdsFrom())).isNegative();
  }
}
