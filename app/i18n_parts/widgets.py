"""Built-in text of Dash components (dropdown search box, select-all buttons, …) in zh and en."""

STRINGS = {
    "zh": {
        "dd_select_all": "全选",
        "dd_deselect_all": "全不选",
        # Dash substitutes {num_selected}.
        "dd_selected_count": "已选 {num_selected} 项",
        "dd_search": "搜索",
        "dd_clear_search": "清除搜索",
        "dd_clear_selection": "清除选择",
        "dd_no_options": "没有匹配的选项",
    },
    "en": {
        "dd_select_all": "Select all",
        "dd_deselect_all": "Deselect all",
        "dd_selected_count": "{num_selected} selected",
        "dd_search": "Search",
        "dd_clear_search": "Clear search",
        "dd_clear_selection": "Clear selection",
        "dd_no_options": "No options found",
    },
}
