"""English pieces for the tone corpus (see corpora_tone.py for how they are combined).

The same kinds as corpora_tone_zh.py: praise, complaint, mild complaint, negated complaint
("not bad at all"), negated praise ("not great"), feelings, and plain statements of fact.
"""

ASPECTS = ["the workload", "the overtime situation", "my direct manager", "our department head",
           "my team lead", "the pay", "the year-end bonus", "the performance bonus",
           "the benefits package", "internal training", "the promotion process",
           "the career path", "our team", "cooperation between colleagues",
           "cross-team communication", "the approval flow", "the expense process",
           "the internal systems", "my work laptop", "my desk setup", "the canteen",
           "the shuttle", "the leave arrangements", "the remote work policy",
           "the performance review", "onboarding", "the shift schedule", "the meeting schedule",
           "IT support", "the attendance policy", "project planning", "scope changes",
           "the office space", "team events", "the health check arrangements"]
POS = ["is great", "has been excellent", "works really well", "is much better now",
       "is very supportive", "is fair", "has improved a lot", "is really helpful",
       "is well organized", "runs smoothly", "exceeded my expectations", "is thoughtful",
       "deserves praise", "is very professional", "is handled quickly and well",
       "is clearly done with care", "keeps getting better", "makes my life easier",
       "is something I really like", "gives me confidence", "is reliable", "is a real plus",
       "feels very transparent", "is a pleasure to deal with", "has been a huge help"]
NEG = ["is a mess", "is terrible", "keeps getting worse", "is painfully slow", "is chaotic",
       "is unfair", "is frustrating", "never works", "is broken", "is a constant headache",
       "is exhausting", "has been dragging on for months", "is demoralizing",
       "is a total joke", "makes me want to quit", "is badly managed", "is full of problems",
       "is careless", "has not improved one bit", "wastes everyone's time", "is a nightmare",
       "changes every week without warning", "is burning people out", "is really poor",
       "is disappointing"]
MILD_NEG = ["is a bit slow", "could be better", "is somewhat confusing", "is not ideal",
            "is a little frustrating", "needs work", "is slightly annoying", "feels a bit unfair",
            "is a bit of a hassle", "is sometimes unreliable", "is falling behind",
            "is not as good as it used to be", "is a bit tiring", "is kind of disappointing",
            "is hit and miss", "lacks clarity", "is late more often than not",
            "is rather clunky", "leaves room for improvement", "is so-so, honestly"]
NOT_BAD = ["is not bad", "isn't bad, really", "gives me no reason to grumble",
           "has no real issues", "couldn't be better", "is actually pretty decent",
           "never lets me down", "is not as bad as people say, it's good",
           "is no worse than anywhere else, quite good", "hasn't given me any trouble",
           "is hard to fault", "is not a problem at all", "is not slow anymore, it's quick",
           "isn't complicated, it just works", "is not something I worry about"]
NOT_GOOD = ["is not good", "isn't great", "is not working", "isn't fair",
            "is not what was promised", "hasn't improved", "never gets fixed",
            "doesn't get any attention", "is not helpful", "isn't transparent", "is not reliable",
            "isn't what it used to be", "doesn't work for me", "is not acceptable",
            "is not well thought out"]
FEEL_POS = ["valued", "motivated", "supported", "appreciated", "energized", "at home here",
            "like I'm growing fast", "trusted", "happy with my job", "keen to stay long term",
            "proud of what we ship", "like I'm learning a lot"]
FEEL_NEG = ["burned out", "ignored", "undervalued", "stressed all the time", "stuck",
            "exhausted", "anxious", "taken for granted", "close to breaking point",
            "like leaving", "miserable most days", "like a cog in a machine"]
FEEL_OPEN = ["I feel ", "lately I feel ", "these days I feel ", "honestly I feel ",
             "I've been feeling ", "most weeks I feel ", "right now I feel "]
FACT_FRAMES = ["{subject} {change} {when}", "{when}, {subject} {change}",
               "I joined {when} and work in {dept}", "{dept} has {n} people right now",
               "I'm travelling to {place} {when}", "the {event} is {when} in {place}",
               "I'm mainly responsible for {work}", "I submitted my {doc} {when}",
               "{system} goes live {when}", "the {event} moved to {when}",
               "currently working on {work}", "I work from the {place} office",
               "our team will {change2} {when}", "is {subject} changing {when}?",
               "where do I sign up for the {event}?", "I transferred to {dept} {when}",
               "the {doc} template is on the shared drive", "I answered this survey for {dept}",
               "{dept} has {n} people, half of them in {place}",
               "I spend {n} days a week at {place}", "{subject} will be announced by {dept} {when}",
               "I have training in {place} {when}", "my {doc} is still in review",
               "materials for the {event} arrive by email {when}", "we start using {system} {when}",
               "I do {work} in {dept} and finish probation {when}",
               "the notice about {subject} went out {when}",
               "my {system} account gets set up {when}", "the {event} takes about an hour",
               "{subject} happens at a different time than last year"]
FACT = {
    "when": ["next month", "this week", "last week", "in January", "at the end of the month",
             "after the holiday", "next quarter", "on Thursday afternoon", "last year",
             "this morning", "in two weeks", "before the new year"],
    "subject": ["attendance check-in", "the expense policy", "the shuttle timetable",
                "the health check", "the rota", "room booking", "payday", "the leave allowance",
                "the performance cycle", "the team outing", "our floor", "on-call duty",
                "new hire training", "the project weekly"],
    "change": ["will be adjusted", "moves online", "switches to a new system",
               "follows the new rules", "is handled by admin", "stays the same as last year",
               "goes ahead as planned", "becomes monthly", "is unchanged for now",
               "has a new owner"],
    "change2": ["move to the new campus", "merge into one group", "hire two backend engineers",
                "start two-week sprints", "get a new project manager",
                "take over the southern accounts"],
    "dept": ["marketing", "the R&D center", "finance", "customer service", "the data team",
             "operations", "sales group two", "admin"],
    "n": ["5", "twelve", "20", "three", "7", "fifteen"],
    "place": ["Beijing", "Chengdu", "fifth floor", "Building B", "Guangzhou", "client site",
              "Room A"],
    "event": ["quarterly review", "department meeting", "annual health check",
              "tech talk", "new joiner meetup", "promotion panel"],
    "work": ["data reports", "customer follow-ups", "release testing", "contract review",
             "recruiting interviews", "finance reconciliation", "vendor management"],
    "doc": ["self-review", "quarterly plan", "expense report", "probation review",
            "project summary", "annual goals"],
    "system": ["the new OA", "e-signing", "the new attendance app", "online expenses",
               "the wiki"],
}
NEU_VIEWS = ["no particular feelings about it", "nothing in particular to add",
             "hard to judge so far", "no visible change yet", "can't say it's good or bad",
             "no real impression", "business as usual", "fairly average, neither here nor there",
             "still getting to know things, can't tell", "nothing further from me",
             "pretty much as usual", "too new here to have a view", "that's all from me",
             "I haven't noticed any difference", "some parts fine, some average, we'll see",
             "about what you'd expect", "can't really say yet", "let's see how it develops"]
THANKS = ["thanks to {who} for {did}", "thank you {who} for {did}", "big thanks to {who} for {did}",
          "shout-out to {who} for {did}", "grateful to {who} for {did}"]
THANKS_SLOTS = {"who": ["HR", "the admin team", "my mentor", "my team lead", "IT", "finance",
                        "my manager"],
                "did": ["fixing my issue so fast", "handling all the paperwork",
                        "patiently explaining the rules", "replying right away",
                        "getting me a training spot",
                        "always helping new people", "processing my request quickly"]}
CONTRAST = [", but ", ", though ", ", however ", ". But ", ", only ", ", yet "]
CONCEDE = ["although ", "even though ", "while "]
OPEN = ["", "", "", "overall ", "to be honest, ", "my take: ", "one more thing: ", "feedback: "]
# Things that happen, told without a judgement word: the reader still knows how they feel.
EVENTS_NEG = ["nobody follows up on {aspect}",
              "I've asked about {aspect} several times with no reply",
              "there's zero progress on {aspect}", "{aspect} got postponed again",
              "{aspect} was cancelled at short notice with no explanation",
              "I'm up late every night because of {aspect}", "{aspect} eats into my family time",
              "no one owns the problems with {aspect}",
              "{aspect} has to be redone every single time",
              "the promises about {aspect} just faded away", "{aspect} feels pointless",
              "{aspect} is stuck and my work has stopped", "{aspect} keeps me awake at night",
              "{aspect} was cut without a word",
              "I reported {aspect} six months ago and it's the same",
              "{aspect} takes more and more of my time", "{aspect} broke down again",
              "{aspect} has gone backwards this year"]
EVENTS_POS = ["{aspect} was done within a week", "my issue with {aspect} was solved the same day",
              "{aspect} finally got sorted and saves us a lot of effort",
              "since {aspect} changed everyone is more relaxed",
              "{aspect} is twice as fast as before", "thanks to {aspect} I get proper weekends",
              "someone actually follows up on {aspect}", "{aspect} helped me a great deal",
              "my suggestion about {aspect} was taken on board", "I look forward to {aspect} now",
              "{aspect} gets new people up to speed quickly", "{aspect} taught me real skills",
              "{aspect} is a reason I want to stay", "feedback on {aspect} comes quickly",
              "{aspect} really looks after staff", "{aspect} went brilliantly this time",
              "{aspect} helped us ship on time", "I don't have to worry about {aspect} anymore"]
# Plain facts about the same aspects, so an aspect alone never carries a tone.
EVENTS_NEU = ["{aspect} changes {when}", "the notice about {aspect} was emailed {when}",
              "{aspect} is run by {dept} at the moment", "{aspect} is scheduled for {when}",
              "{aspect} is described in the handbook", "{aspect} starts as a pilot {when}",
              "could you confirm the dates for {aspect}", "{aspect} is the same as in {dept}",
              "{aspect} moved online this time", "{aspect} got a new owner {when}",
              "I'll join the discussion on {aspect} {when}",
              "the details of {aspect} are in the system"]
# A plain sentiment lexicon said of any aspect: "{aspect} is {adverb} {word}", "I {verb} {aspect}".
ADVERBS = ["very", "really", "quite", "pretty", "so", "extremely", "genuinely", ""]
LEX_POS = ["great", "excellent", "amazing", "fantastic", "wonderful", "brilliant", "outstanding",
           "impressive", "smooth", "efficient", "generous", "friendly", "clear", "fast",
           "flexible", "rewarding", "enjoyable", "pleasant", "solid", "the best"]
LEX_NEG = ["awful", "poor", "slow", "confusing", "stressful", "disorganized", "pointless", "rigid",
           "unclear", "annoying", "buggy", "outdated", "unbearable", "toxic", "chaotic",
           "inconsistent", "draining", "unhelpful", "a waste of time", "the worst"]
VERB_POS = ["love", "enjoy", "appreciate", "value", "like", "am grateful for"]
VERB_NEG = ["hate", "dislike", "dread", "can't stand", "am tired of", "am fed up with"]
