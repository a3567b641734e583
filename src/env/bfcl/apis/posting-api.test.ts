// TwitterAPI against BFCL's Python class: the expected strings were printed by the upstream posting_api.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclExecution } from "../executor.js";
import { parsePythonJson } from "../python/json.js";
import type { PyDict } from "../python/value.js";

const CONFIG = parsePythonJson(
  '{"username":"ana","password":"pw","tweet_counter":2,"tweets":{"0":{"id":0,"username":"ana","content":"Budget analysis","tags":["#budget"],"mentions":[]},"1":{"id":1,"username":"bo","content":"hello","tags":[],"mentions":[]}},"comments":{"0":[{"username":"bo","content":"old"}]}}',
) as PyDict;

function twitter(config: PyDict = CONFIG): BfclExecution {
  return new BfclExecution({ id: "test_0", involved_classes: ["TwitterAPI"], initial_config: { TwitterAPI: config } });
}

const SESSION: [string, string][] = [
  ["post_tweet(content='x')", '{"error": "User not authenticated. Please authenticate before posting."}'],
  // Upstream `raise`s a dict here, which Python rejects with a TypeError.
  ["comment(tweet_id=0, comment_content='c')", "Error during execution: exceptions must derive from BaseException"],
  ["authenticate_twitter(username='ana', password='bad')", '{"authentication_status": false}'],
  ["authenticate_twitter(username='ana', password='pw')", '{"authentication_status": true}'],
  ["post_tweet(content='first')", '{"id": 2, "username": "ana", "content": "first", "tags": [], "mentions": []}'],
  ["post_tweet(content='second')", '{"id": 3, "username": "ana", "content": "second", "tags": [], "mentions": []}'],
  // Both tweets hold the one default `mentions` list, so the mention shows on tweet 3 too.
  ["mention(tweet_id=2, mentioned_usernames=['@bo'])", '{"mention_status": "Users mentioned successfully"}'],
  ["get_tweet(tweet_id=3)", '{"id": 3, "username": "ana", "content": "second", "tags": [], "mentions": ["@bo"]}'],
  ["get_tweet(tweet_id='2')", '{"error": "Tweet with ID 2 not found."}'],
  ["comment(tweet_id=0, comment_content='new')", '{"comment_status": "Comment added successfully"}'],
  // The config's comments sit under the str key "0"; comment() used the int key 0.
  ["get_tweet_comments(tweet_id=0)", "[{'username': 'ana', 'content': 'new'}]"],
  ["retweet(tweet_id=1)", '{"retweet_status": "Successfully retweeted"}'],
  ["retweet(tweet_id=1)", '{"retweet_status": "Already retweeted"}'],
  ["search_tweets(keyword='BUDGET')", "[{'id': 0, 'username': 'ana', 'content': 'Budget analysis', 'tags': ['#budget'], 'mentions': []}]"],
  ["get_user_tweets(username='bo')", "[{'id': 1, 'username': 'bo', 'content': 'hello', 'tags': [], 'mentions': []}]"],
  ["follow_user(username_to_follow='bo')", '{"follow_status": true}'],
  ["unfollow_user(username_to_unfollow='alice')", '{"unfollow_status": true}'],
  ["list_all_following()", "['bob', 'bo']"],
  ["get_user_stats(username='ana')", '{"tweet_count": 3, "following_count": 2, "retweet_count": 1}'],
];

test("a Twitter session prints what BFCL's TwitterAPI printed", () => {
  const api = twitter();
  for (const [call, expected] of SESSION) assert.equal(api.executeText(call), expected, call);
});

test("state: int tweet ids, comments with both the config's str keys and comment()'s int keys", () => {
  const api = twitter();
  api.executeText("authenticate_twitter(username='ana', password='pw')");
  api.executeText("comment(tweet_id=1, comment_content='hey')");
  const state = api.state().TwitterAPI!;
  assert.deepEqual(Object.keys(state), ["username", "password", "authenticated", "tweets", "comments", "retweets", "following_list", "tweet_counter"]);
  assert.deepEqual([...(state.tweets as Map<number, unknown>).keys()], [0, 1]);
  assert.deepEqual([...(state.comments as Map<number | string, unknown>).keys()], ["0", 1]);
  // A float id finds the int-keyed tweet, as 1.0 == 1 hashes alike in Python.
  assert.equal(api.executeText("get_tweet(tweet_id=1.0)"), '{"id": 1, "username": "bo", "content": "hello", "tags": [], "mentions": []}');
});

test("an empty config gives BFCL's defaults", () => {
  const api = twitter({});
  assert.equal(api.executeText("authenticate_twitter(username='john', password='john123')"), '{"authentication_status": true}');
  assert.equal(api.executeText("list_all_following()"), "['alice', 'bob']");
  assert.equal(api.executeText("post_tweet(content='a', tags=['#t'])"), '{"id": 0, "username": "john", "content": "a", "tags": ["#t"], "mentions": []}');
});
