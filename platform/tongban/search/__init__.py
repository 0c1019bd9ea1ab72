"""Finding a service: life events, departments and text search over the published service files
(jieba word segmentation, the files' own keywords as synonyms, pinyin and its initials)."""
