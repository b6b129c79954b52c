package blocks

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Block ids of short messages.
const (
	BlockHelp    = "help_" // + chunk index
	BlockNotice  = "notice"
	BlockRefusal = "refusal"
)

// maxChunk keeps a section's text, code fences included, under Slack's 3,000.
const maxChunk = 2800

// Help renders usage (from the commands package) as preformatted text; it
// is escaped because usage names placeholders like <tenant>.
func Help(usage string) Message {
	chunks := chunkLines(Escape(strings.TrimRight(usage, "\n")), maxChunk)
	bs := make([]slack.Block, 0, len(chunks))
	for i, c := range chunks {
		if i == maxMessageBlocks {
			break
		}
		bs = append(bs, section(fmt.Sprintf("%s%d", BlockHelp, i), "```\n"+c+"\n```"))
	}
	first, _, _ := strings.Cut(strings.TrimSpace(usage), "\n")
	return newMessage("closebot help: "+escClip(first, 200), bs...)
}

// Refusal renders a refusal (a sentence in plain words from the bot's one
// place that turns domain errors into text), usually ephemeral.
func Refusal(sentence string) Message {
	return newMessage(escClip(sentence, maxFallbackText), section(BlockRefusal, ":no_entry: "+escClip(sentence, 2900)))
}

// Notice renders any other short sentence (ephemeral acknowledgements,
// reminders, start-up notes).
func Notice(sentence string) Message {
	return newMessage(escClip(sentence, maxFallbackText), section(BlockNotice, escClip(sentence, 2900)))
}

const maxMessageBlocks = 50

// chunkLines splits text at line breaks into pieces of at most n runes,
// cutting overlong lines.
func chunkLines(text string, n int) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, line := range strings.Split(text, "\n") {
		for utf8.RuneCountInString(line) > n {
			flush()
			r := []rune(line)
			out = append(out, string(r[:n]))
			line = string(r[n:])
		}
		if utf8.RuneCountInString(cur.String())+utf8.RuneCountInString(line)+1 > n {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	flush()
	if len(out) == 0 {
		out = []string{" "}
	}
	return out
}
