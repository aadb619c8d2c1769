/** Readable random app ids for `tandem run` without `--app-id`, like the dapr CLI's "silly names". */
import { randomInt } from "node:crypto";

const ADJECTIVES = [
  "amber", "bold", "brave", "breezy", "bright", "calm", "clever", "cosmic", "crisp", "curious",
  "daring", "dusty", "eager", "fancy", "fluffy", "frosty", "gentle", "giddy", "golden", "happy",
  "hasty", "humble", "icy", "jolly", "keen", "lively", "lucky", "mellow", "misty", "nimble",
  "noisy", "odd", "plucky", "proud", "quick", "quiet", "rapid", "rusty", "shiny", "silent",
  "sleepy", "snappy", "sunny", "swift", "tidy", "vivid", "wacky", "witty", "young", "zesty",
];
const NOUNS = [
  "badger", "beaver", "bison", "camel", "cheetah", "condor", "coyote", "crane", "dingo", "dolphin",
  "eagle", "falcon", "ferret", "finch", "gecko", "gibbon", "heron", "hippo", "ibis", "jackal",
  "koala", "lemur", "llama", "lynx", "magpie", "marmot", "moose", "narwhal", "newt", "ocelot",
  "otter", "panda", "pelican", "penguin", "puffin", "quokka", "raven", "salmon", "seal", "sloth",
  "stork", "tapir", "toucan", "turtle", "viper", "walrus", "weasel", "wombat", "yak", "zebra",
];

export function randomAppId(taken: ReadonlySet<string> = new Set()): string {
  for (let attempt = 0; ; attempt++) {
    let id = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}`;
    if (attempt >= 50) id += `-${randomInt(1000, 10000)}`;
    if (!taken.has(id)) return id;
  }
}
