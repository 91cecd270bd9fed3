// The provider's data model: every influencer's counters are a pure function of (seed, id, second), so a test
// can compute exactly what Mockstagram answered at any moment without asking it.
import { hash32, mulberry32 } from "../../domain/seeded-random.ts";

/** The counters a provider reports for one influencer at one moment. */
export interface InfluencerCounters {
  followers: number;
  following: number;
  posts: number;
  /** Likes over all posts, cumulative. */
  likes: number;
  /** Comments over all posts, cumulative. */
  comments: number;
  /** Video views over all posts, cumulative. */
  views: number;
}

/** Time zero of the model (2023-11-14T22:13:20Z): growth is counted from here, so values stay stable. */
const MODEL_EPOCH_SECONDS = 1_700_000_000;
const DAY_SECONDS = 86_400;

/** The fixed traits of one influencer, drawn once from its id. */
interface Profile {
  followersBase: number;
  followersPerDay: number;
  swingPhase: number;
  followingBase: number;
  postsBase: number;
  secondsPerPost: number;
  likesPerPost: number;
  commentsPerLike: number;
  viewsPerLike: number;
}

function profileOf(seed: number, id: string): Profile {
  const rng = mulberry32(hash32(`${seed}:${id}`));
  const followersBase = Math.round(10 ** (3 + rng() * 4)); // 1 k .. 10 M, log-uniform like real audiences
  return {
    followersBase,
    followersPerDay: followersBase * (0.0001 + rng() * 0.0009), // 0.01 % to 0.1 % a day
    swingPhase: rng() * 2 * Math.PI,
    followingBase: 50 + Math.floor(rng() * 1500),
    postsBase: 20 + Math.floor(rng() * 2000),
    secondsPerPost: 3600 * (4 + rng() * 44),
    likesPerPost: followersBase * (0.01 + rng() * 0.05),
    commentsPerLike: 0.01 + rng() * 0.05,
    viewsPerLike: 5 + rng() * 15,
  };
}

/** Signed noise in [-1, 1) that changes every second, so buckets have distinct min, max and last values. */
function jitter(seed: number, id: string, second: number, what: string): number {
  return (hash32(`${seed}:${id}:${second}:${what}`) / 4_294_967_296) * 2 - 1;
}

/**
 * The counters of influencer `id` at epoch second `second` (fractions are dropped): the value changes once a
 * second. Followers grow with a daily swing and per-second noise; posts arrive on a fixed rhythm; likes,
 * comments and views follow the posts.
 *
 * @example countersAt(0, "1000001", Math.floor(Date.now() / 1000)).followers
 */
export function countersAt(seed: number, id: string, second: number): InfluencerCounters {
  const s = Math.floor(second);
  const p = profileOf(seed, id);
  const elapsed = Math.max(0, s - MODEL_EPOCH_SECONDS);
  const days = elapsed / DAY_SECONDS;
  const swing = 0.002 * p.followersBase * Math.sin((2 * Math.PI * elapsed) / DAY_SECONDS + p.swingPhase);
  const noise = 0.2 * Math.sqrt(p.followersBase) * jitter(seed, id, s, "followers");
  const followers = Math.max(0, Math.round(p.followersBase + p.followersPerDay * days + swing + noise));
  const posts = p.postsBase + Math.floor(elapsed / p.secondsPerPost);
  const likes = Math.max(0, Math.round(posts * p.likesPerPost * (1 + 0.05 * jitter(seed, id, s, "likes"))));
  return {
    followers,
    following: p.followingBase + (Math.floor(elapsed / (3 * DAY_SECONDS)) % 50),
    posts,
    likes,
    comments: Math.round(likes * p.commentsPerLike),
    views: Math.round(likes * p.viewsPerLike),
  };
}
