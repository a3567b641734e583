// BFCL's TwitterAPI (posting_api.py at the v3 data commit): one user's tweets, comments, retweets and follows.
//
// Python's dict semantics matter here: `tweets` has int keys (the loader converts the config's string keys),
// `comments` keeps the config's string keys while `comment()` adds int keys, so the two never meet, and a tweet
// id 1.0 or True finds tweet 1 as it does in Python. Upstream details kept on purpose: `comment` without a login
// raises (it `raise`s a dict, which Python refuses with a TypeError), `mention` needs no login, and tweets posted
// without tags or mentions share one default list each (Python's mutable default arguments), so a `mention` on
// one of them shows on all of them. Python shares those lists for the whole process; here, per instance.
import { pyStr } from "../python/repr.js";
import { isPyDict, type PyDict, type PyValue } from "../python/value.js";
import { arg, method } from "./method-table.js";
import {
  dictKey,
  getItem,
  pyAdd,
  pyContains,
  pyEquals,
  pyIterate,
  pyTruthy,
  requireHashable,
  requireStr,
} from "./python-ops.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

type Table = Map<number | string, PyValue>;

/** Python int() of a str dict key, as the loader converts tweet ids. */
function intKey(key: string): number {
  const text = key.trim();
  if (/^[+-]?\d+(?:_\d+)*$/.test(text)) return Number(text.replace(/_/g, ""));
  throw new BfclCallError(`invalid literal for int() with base 10: '${key}'`);
}

function toTable(value: PyValue): Table {
  if (value instanceof Map) return value;
  if (isPyDict(value)) return new Map(Object.entries(value));
  throw new BfclCallError(`'${Array.isArray(value) ? "list" : typeof value}' object has no attribute 'items'`);
}

/** `key in table` with Python's hashing (1, 1.0 and True are one key; a list raises). */
function has(table: Table, key: PyValue): boolean {
  requireHashable(key);
  return key !== null && table.has(dictKey(key));
}

function requireList(value: PyValue, method: string): PyValue[] {
  if (Array.isArray(value)) return value;
  throw new BfclCallError(`'${value === null ? "NoneType" : typeof value === "string" ? "str" : "dict"}' object has no attribute '${method}'`);
}

class TwitterApiInstance implements BfclApi {
  private username: PyValue = "john";
  private password: PyValue = "john123";
  private authenticated: PyValue = false;
  private tweets: Table = new Map();
  private comments: Table = new Map();
  private retweets: Table = new Map();
  private followingList: PyValue = ["alice", "bob"];
  private tweetCounter: PyValue = 0;
  // post_tweet's `tags=[]` and `mentions=[]` defaults.
  private readonly defaultTags: PyValue[] = [];
  private readonly defaultMentions: PyValue[] = [];

  readonly methods: Record<string, BfclMethod> = {
    authenticate_twitter: method("username, password", (a) => this.authenticate(a.username!, a.password!)),
    posting_get_login_status: method("", () => ({ login_status: pyTruthy(this.authenticated) })),
    post_tweet: method("content, tags=, mentions=", (a) =>
      this.postTweet(a.content!, arg(a, "tags", this.defaultTags), arg(a, "mentions", this.defaultMentions)),
    ),
    retweet: method("tweet_id", (a) => this.retweet(a.tweet_id!)),
    comment: method("tweet_id, comment_content", (a) => this.comment(a.tweet_id!, a.comment_content!)),
    mention: method("tweet_id, mentioned_usernames", (a) => this.mention(a.tweet_id!, a.mentioned_usernames!)),
    follow_user: method("username_to_follow", (a) => this.follow(a.username_to_follow!)),
    list_all_following: method("", () => this.listFollowing()),
    unfollow_user: method("username_to_unfollow", (a) => this.unfollow(a.username_to_unfollow!)),
    get_tweet: method("tweet_id", (a) => this.getTweet(a.tweet_id!)),
    get_user_tweets: method("username", (a) => this.userTweets(a.username!)),
    search_tweets: method("keyword", (a) => this.searchTweets(a.keyword!)),
    get_tweet_comments: method("tweet_id", (a) => this.tweetComments(a.tweet_id!)),
    get_user_stats: method("username", (a) => this.userStats(a.username!)),
  };

  loadScenario(config: PyDict, _longContext: boolean): void {
    const get = (key: string, fallback: () => PyValue): PyValue => (Object.hasOwn(config, key) ? config[key]! : fallback());
    this.username = get("username", () => "john");
    this.password = get("password", () => "john123");
    this.authenticated = get("authenticated", () => false);
    const tweets = toTable(get("tweets", () => ({})));
    this.tweets = new Map([...tweets].map(([key, tweet]) => [typeof key === "string" ? intKey(key) : key, tweet]));
    this.comments = toTable(get("comments", () => ({})));
    this.retweets = toTable(get("retweets", () => ({})));
    this.followingList = get("following_list", () => ["alice", "bob"]);
    this.tweetCounter = get("tweet_counter", () => 0);
  }

  state(): PyDict {
    return {
      username: this.username,
      password: this.password,
      authenticated: this.authenticated,
      tweets: this.tweets,
      comments: this.comments,
      retweets: this.retweets,
      following_list: this.followingList,
      tweet_counter: this.tweetCounter,
    };
  }

  private authenticate(username: PyValue, password: PyValue): PyValue {
    if (pyEquals(username, this.username) && pyEquals(password, this.password)) {
      this.authenticated = true;
      return { authentication_status: true };
    }
    return { authentication_status: false };
  }

  private postTweet(content: PyValue, tags: PyValue, mentions: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please authenticate before posting." };
    const tweet: PyDict = { id: this.tweetCounter, username: this.username, content, tags, mentions };
    requireHashable(this.tweetCounter);
    this.tweets.set(dictKey(this.tweetCounter), tweet);
    this.tweetCounter = pyAdd(this.tweetCounter, 1, "+=");
    return tweet;
  }

  private notFound(tweetId: PyValue): PyValue {
    return { error: `Tweet with ID ${pyStr(tweetId)} not found.` };
  }

  private retweet(tweetId: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please authenticate before retweeting." };
    if (!has(this.tweets, tweetId)) return this.notFound(tweetId);
    if (!has(this.retweets, this.username)) this.retweets.set(dictKey(this.username), []);
    const list = this.retweets.get(dictKey(this.username))!;
    if (pyContains(list, tweetId)) return { retweet_status: "Already retweeted" };
    requireList(list, "append").push(tweetId);
    return { retweet_status: "Successfully retweeted" };
  }

  private comment(tweetId: PyValue, content: PyValue): PyValue {
    // Upstream `raise {"error": ...}`: raising a dict is itself a TypeError.
    if (!pyTruthy(this.authenticated)) throw new BfclCallError("exceptions must derive from BaseException");
    if (!has(this.tweets, tweetId)) return this.notFound(tweetId);
    if (!has(this.comments, tweetId)) this.comments.set(dictKey(tweetId), []);
    requireList(this.comments.get(dictKey(tweetId))!, "append").push({ username: this.username, content });
    return { comment_status: "Comment added successfully" };
  }

  private mention(tweetId: PyValue, usernames: PyValue): PyValue {
    if (!has(this.tweets, tweetId)) return this.notFound(tweetId);
    const tweet = this.tweets.get(dictKey(tweetId))!;
    const mentions = requireList(getItem(tweet, "mentions"), "extend");
    mentions.push(...pyIterate(usernames));
    return { mention_status: "Users mentioned successfully" };
  }

  private follow(username: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please authenticate before following." };
    if (pyContains(this.followingList, username)) return { follow_status: false };
    requireList(this.followingList, "append").push(username);
    return { follow_status: true };
  }

  private listFollowing(): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please authenticate before listing following." };
    return this.followingList;
  }

  private unfollow(username: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please authenticate before unfollowing." };
    if (!pyContains(this.followingList, username)) return { unfollow_status: false };
    const list = requireList(this.followingList, "remove");
    list.splice(list.findIndex((entry) => pyEquals(entry, username)), 1);
    return { unfollow_status: true };
  }

  private getTweet(tweetId: PyValue): PyValue {
    if (!has(this.tweets, tweetId)) return this.notFound(tweetId);
    return this.tweets.get(dictKey(tweetId))!;
  }

  private userTweets(username: PyValue): PyValue {
    return [...this.tweets.values()].filter((tweet) => pyEquals(getItem(tweet, "username"), username));
  }

  private searchTweets(keyword: PyValue): PyValue {
    // keyword.lower() is evaluated per tweet, so with no tweets a non-str keyword raises nothing.
    if (this.tweets.size === 0) return [];
    const needle = requireStr(keyword, "lower").toLowerCase();
    return [...this.tweets.values()].filter(
      (tweet) =>
        requireStr(getItem(tweet, "content"), "lower").toLowerCase().includes(needle) ||
        // The whole list of lowered tags is built before `in` looks at it.
        pyIterate(getItem(tweet, "tags"))
          .map((tag) => requireStr(tag, "lower").toLowerCase())
          .includes(needle),
    );
  }

  private tweetComments(tweetId: PyValue): PyValue {
    if (!has(this.tweets, tweetId)) return this.notFound(tweetId);
    return has(this.comments, tweetId) ? this.comments.get(dictKey(tweetId))! : [];
  }

  private userStats(username: PyValue): PyValue {
    const tweetCount = [...this.tweets.values()].filter((tweet) => pyEquals(getItem(tweet, "username"), username)).length;
    let followingCount = 0;
    if (pyEquals(username, this.username)) followingCount = Array.isArray(this.followingList) ? this.followingList.length : 0;
    const retweets = has(this.retweets, username) ? this.retweets.get(dictKey(username))! : [];
    return {
      tweet_count: tweetCount,
      following_count: followingCount,
      retweet_count: Array.isArray(retweets) ? retweets.length : 0,
    };
  }
}

export const TwitterAPI: BfclApiClass = {
  className: "TwitterAPI",
  docFile: "posting_api",
  create: () => new TwitterApiInstance(),
};
